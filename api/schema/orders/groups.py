"""Which open orders could ship together: same customer e-mail, same shipping address.

A pure rule (no storage): given orders, the groups of two or more. E-mails and address
values compare without case and surrounding spaces; empty address fields are ignored, so
`{"line2": ""}` and no `line2` are the same address. Orders without an e-mail or an
address are never grouped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.orders.model import Order

AddressKey = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Group:
    customer_email: str
    address: Mapping[str, str | None]  # as on the group's first order
    orders: tuple[Order, ...]


def _email(order: Order) -> str | None:
    email = (order.customer.email or "").strip().lower()
    return email or None


def _address(order: Order) -> AddressKey | None:
    fields = sorted(
        (name.strip().lower(), " ".join(value.split()).lower())
        for name, value in order.shipping_address.items()
        if isinstance(value, str) and value.strip()
    )
    return tuple(fields) or None


def same_customer_and_address(orders: Sequence[Order]) -> list[Group]:
    """Groups of 2+ orders, in the order their first member appears; members keep theirs."""
    found: dict[tuple[str, AddressKey], list[Order]] = {}
    for order in orders:
        email, address = _email(order), _address(order)
        if email is not None and address is not None:
            found.setdefault((email, address), []).append(order)
    return [
        Group(customer_email=email, address=members[0].shipping_address, orders=tuple(members))
        for (email, _), members in found.items()
        if len(members) >= 2
    ]
