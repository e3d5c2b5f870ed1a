"""What a person decides about customers: these are one (merge), this one is not (unmerge).

Matching never undoes a person's decision: it never moves an identity that is linked, so an
identity taken out stays out, and customers merged stay merged. Every decision is written to
the audit trail of each customer it touched, with who made it.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from domain.clock import Clock, utcnow
from domain.customers.matching import Rule
from domain.customers.model import AuditEntry, Customer
from domain.errors import IllegalState, InvalidInput, NotFound
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_MERGED = 20


async def merge_customers(
    uows: UnitOfWorkFactory,
    customer_ids: list[uuid.UUID],
    *,
    into: uuid.UUID | None,
    actor: str,
    clock: Clock = utcnow,
) -> Customer:
    """Merge the customers into one (`into`, else the oldest): its identities, and so its
    orders, become that customer's; the others point at it from then on."""
    wanted = list(dict.fromkeys(customer_ids))
    if not 2 <= len(wanted) <= MAX_MERGED:
        raise InvalidInput(f"merge 2 to {MAX_MERGED} different customers", field="customerIds")
    if into is not None and into not in wanted:
        raise InvalidInput("the customer merged into is one of those merged", field="into")
    now = clock()
    async with uows() as uow:
        found = {c.id: c for c in await uow.customers.lock(wanted)}
        for n, customer_id in enumerate(wanted):
            _mergeable(found.get(customer_id), customer_id, f"customerIds[{n}]")
        target = found[into] if into is not None else min(found.values(), key=_age)
        others = [found[c] for c in wanted if c != target.id]
        moved = await _move_identities(uow, others, target, actor, now)
        for other in others:
            await uow.customers.save_customer(replace(other, merged_into=target.id, updated_at=now))
            await _audit(
                uow, other.id, "merged_into", actor, f"merged into customer {target.id}", now
            )
        names = ", ".join(str(o.id) for o in others)
        await _audit(uow, target.id, "merged", actor,
                     f"customers {names} merged in ({moved} identities)", now)  # fmt: skip
        merged = _completed(target, others, now)
        await uow.customers.save_customer(merged)
        await uow.commit()
    return merged


async def unmerge_customer(
    uows: UnitOfWorkFactory, identity_id: uuid.UUID, *, actor: str, clock: Clock = utcnow
) -> tuple[Customer, Customer]:
    """Take one identity (and its orders) out of its customer into a customer of its own;
    returns (the customer it left, the new one)."""
    now = clock()
    async with uows() as uow:
        identity = await uow.customers.identity(identity_id)
        if identity is None:
            raise NotFound(f"unknown customer identity {identity_id}", field="identityId")
        [left] = await uow.customers.lock([identity.customer_id])
        if left.forgotten_at is not None:
            raise IllegalState("a forgotten customer is not unmerged", field="identityId")
        if len(await uow.customers.identities([left.id])) < 2:
            raise IllegalState("the identity is its customer's only one", field="identityId")
        alone = Customer(uuid.uuid4(), identity.name, identity.email, identity.phone, now, now)
        await uow.customers.add_customer(alone)
        await uow.customers.save_identity(
            replace(
                identity, customer_id=alone.id, rule=Rule.UNMERGED, linked_at=now, linked_by=actor,
                evidence=f"taken out of customer {left.id} by {actor}",
            )
        )  # fmt: skip
        detail = f"identity {identity.id} taken out into customer {alone.id}"
        await _audit(uow, left.id, "unmerged", actor, detail, now)
        await _audit(uow, alone.id, "unmerged", actor, f"{detail}, from customer {left.id}", now)
        await uow.commit()
    return left, alone


def _mergeable(customer: Customer | None, customer_id: uuid.UUID, field: str) -> None:
    if customer is None:
        raise NotFound(f"unknown customer {customer_id}", field=field)
    if customer.merged_into is not None:
        raise IllegalState(f"customer {customer_id} was merged into {customer.merged_into}",
                           field=field)  # fmt: skip
    if customer.forgotten_at is not None:
        raise IllegalState(f"customer {customer_id} was forgotten", field=field)


def _age(customer: Customer) -> tuple[datetime, str]:
    return customer.created_at, str(customer.id)


async def _move_identities(
    uow: UnitOfWork, others: list[Customer], target: Customer, actor: str, now: datetime
) -> int:
    identities = await uow.customers.identities([o.id for o in others])
    for identity in identities:
        await uow.customers.save_identity(
            replace(
                identity, customer_id=target.id, rule=Rule.MERGED, linked_at=now,
                linked_by=actor,
                evidence=f"customer {identity.customer_id} merged in by {actor} "
                f"(was: {identity.rule.value}: {identity.evidence})",
            )
        )  # fmt: skip
    return len(identities)


def _completed(target: Customer, others: list[Customer], now: datetime) -> Customer:
    """The merged customer's contact details: its own, completed from the others'."""
    name, email, phone = target.name, target.email, target.phone
    for other in sorted(others, key=_age):
        name, email, phone = name or other.name, email or other.email, phone or other.phone
    return replace(target, name=name, email=email, phone=phone, updated_at=now)


async def _audit(
    uow: UnitOfWork, customer_id: uuid.UUID, action: str, actor: str, detail: str, at: datetime
) -> None:
    await uow.customers.add_audit(AuditEntry(uuid.uuid4(), customer_id, action, actor, detail, at))
