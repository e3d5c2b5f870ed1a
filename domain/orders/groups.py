"""Which open orders could ship together. Pure rules (no storage): given orders, the groups of
two or more, by either of two rules.

- CUSTOMER_AND_LOCATION: orders of one unified customer (the customer book's matching: the same
  normalised e-mail, phone, or address and name, never a name alone) with units reserved at
  the same location, so one pick there serves them all. An order with reserved units at two
  locations can be in a group at each. The group says whether they go to one address.
- EMAIL_AND_ADDRESS: the same customer e-mail to the same shipping address, for orders whose
  buyer is not matched yet (matching runs shortly after an order comes in). A group whose
  orders are all in one customer group already is not repeated; nor one holding orders of two
  customers (a person took them apart: unmergeCustomer).

E-mails and address values compare without case and surrounding spaces; empty address fields
are ignored, so `{"line2": ""}` and no `line2` are the same address. Orders without an e-mail
or an address are never grouped by the second rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.orders.model import LineStatus, Order

AddressKey = tuple[tuple[str, str], ...]
READY = (LineStatus.ALLOCATED, LineStatus.PARTIALLY_SHIPPED)


class GroupRule(StrEnum):
    CUSTOMER_AND_LOCATION = "customer_and_location"
    EMAIL_AND_ADDRESS = "email_and_address"


@dataclass(frozen=True, slots=True)
class Group:
    rule: GroupRule
    customer_email: str | None
    address: Mapping[str, str | None]  # as on the group's first order
    orders: tuple[Order, ...]
    same_address: bool
    customer_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None


def _email(order: Order) -> str | None:
    email = (order.customer.email or "").strip().lower()
    return email or None


def address_key(order: Order) -> AddressKey | None:
    fields = sorted(
        (name.strip().lower(), " ".join(value.split()).lower())
        for name, value in order.shipping_address.items()
        if isinstance(value, str) and value.strip()
    )
    return tuple(fields) or None


def ready_at(order: Order) -> list[uuid.UUID]:
    """The locations the order has reserved units left to ship at, in its lines' order."""
    found = [
        ln.location_id
        for ln in order.lines
        if ln.status in READY and ln.location_id is not None and ln.left_to_ship > 0
    ]
    return list(dict.fromkeys(found))


def same_customer_and_location(
    orders: Sequence[Order], customer_of: Mapping[uuid.UUID, uuid.UUID]
) -> list[Group]:
    """Groups of 2+ orders of one customer (`customer_of`: order id to customer id, for the
    matched ones) ready at one location, in the order their first member appears."""
    found: dict[tuple[uuid.UUID, uuid.UUID], list[Order]] = {}
    for order in orders:
        customer = customer_of.get(order.id)
        if customer is not None:
            for location in ready_at(order):
                found.setdefault((customer, location), []).append(order)
    return [
        Group(
            rule=GroupRule.CUSTOMER_AND_LOCATION,
            customer_email=next((e for o in members if (e := _email(o))), None),
            address=members[0].shipping_address,
            orders=tuple(members),
            same_address=len({address_key(o) for o in members}) == 1,
            customer_id=customer,
            location_id=location,
        )
        for (customer, location), members in found.items()
        if len(members) >= 2
    ]


def same_customer_and_address(orders: Sequence[Order]) -> list[Group]:
    """Groups of 2+ orders, in the order their first member appears; members keep theirs."""
    found: dict[tuple[str, AddressKey], list[Order]] = {}
    for order in orders:
        email, address = _email(order), address_key(order)
        if email is not None and address is not None:
            found.setdefault((email, address), []).append(order)
    return [
        Group(
            rule=GroupRule.EMAIL_AND_ADDRESS,
            customer_email=email,
            address=members[0].shipping_address,
            orders=tuple(members),
            same_address=True,
        )
        for (email, _), members in found.items()
        if len(members) >= 2
    ]


def order_groups(
    orders: Sequence[Order], customer_of: Mapping[uuid.UUID, uuid.UUID]
) -> list[Group]:
    """Customer groups, then e-mail and address groups not inside one of them."""
    by_customer = same_customer_and_location(orders, customer_of)
    covered = [{o.id for o in g.orders} for g in by_customer]

    def said(group: Group) -> bool:
        ids = {o.id for o in group.orders}
        customers = {customer_of[i] for i in ids if i in customer_of}
        return len(customers) > 1 or any(ids <= other for other in covered)

    return [*by_customer, *(g for g in same_customer_and_address(orders) if not said(g))]
