"""Erasing a customer's personal data (GDPR, a marketplace's account-deletion notice) while
keeping the numbers: orders, lines, amounts and the customer itself stay, nameless.

Erased: name, e-mail, phone and address on the customer, on every identity of it and on
every order of it (and on customers merged into it). Its identities lose their match keys
and their channel's buyer reference, so no later order is matched to it: a buyer who comes
back is a new customer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain.clock import Clock, utcnow
from domain.customers.matching import MatchKeys
from domain.customers.model import AuditEntry, Customer
from domain.errors import IllegalState, NotFound
from domain.ports import UnitOfWorkFactory

ERASED = "(erased)"


@dataclass(frozen=True, slots=True)
class Forgotten:
    customer: Customer
    identities: int
    orders: int


async def forget_customer(
    uows: UnitOfWorkFactory, customer_id: uuid.UUID, *, actor: str, clock: Clock = utcnow
) -> Forgotten:
    now = clock()
    async with uows() as uow:
        found = await uow.customers.lock([customer_id])
        if not found:
            raise NotFound(f"unknown customer {customer_id}", field="customerId")
        customer = found[0]
        if customer.merged_into is not None:
            raise IllegalState(
                f"customer {customer_id} was merged into {customer.merged_into}: forget that one",
                field="customerId",
            )
        merged_in = await uow.customers.merged_from(customer_id)
        identities = await uow.customers.identities([customer_id])
        for identity in identities:
            await uow.customers.save_identity(
                replace(
                    identity, name=None, email=None, phone=None, address={}, keys=MatchKeys(),
                    buyer_ref=f"forgotten:{identity.id}", evidence=ERASED, forgotten=True,
                )
            )  # fmt: skip
        orders = await uow.customers.erase_orders(customer_id)
        for other in merged_in:
            await uow.customers.save_customer(_blank(other, now))
        forgotten = _blank(customer, customer.forgotten_at or now)
        await uow.customers.save_customer(forgotten)
        detail = f"personal data erased: {len(identities)} identities, {orders} orders"
        await uow.customers.add_audit(
            AuditEntry(uuid.uuid4(), customer_id, "forgotten", actor, detail, now)
        )
        await uow.commit()
    return Forgotten(forgotten, len(identities), orders)


def _blank(customer: Customer, at: datetime) -> Customer:
    return replace(customer, name=None, email=None, phone=None, updated_at=at, forgotten_at=at)
