"""Every order's buyer becomes an identity of its channel, matched into one customer.

Run by a job, not in the order's own transaction: matching locks the buyer's keys and reads
other channels' identities, which would lengthen the transaction that takes an order in (the
hot path of a flash sale) and tie its lock order to the customer book's. Nothing is lost for
it: an order whose buyer is not matched yet is itself the record that matching is due (its
`customer_identity_id` is empty), and the periodic job takes such orders, oldest first, until
none is left. Idempotent: an order matched is never taken again, and a buyer seen before is
their identity again, refreshed with what the newer order gave.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from domain.clock import Clock, utcnow
from domain.customers.matching import MatchKeys, Rule, best, evidence, match_keys
from domain.customers.model import Buyer, Customer, Identity
from domain.ports import UnitOfWork, UnitOfWorkFactory

BATCH = 200
MATCHER = "matcher"


async def match_buyers(
    uows: UnitOfWorkFactory, *, limit: int = BATCH, clock: Clock = utcnow
) -> int:
    """Match the buyers of up to `limit` orders not matched yet; how many orders were."""
    now = clock()
    async with uows() as uow:
        buyers = await uow.customers.unmatched_buyers(limit)
        if not buyers:
            return 0
        keyed = [(buyer, match_keys(buyer.email, buyer.phone, buyer.name, buyer.address))
                 for buyer in buyers]  # fmt: skip
        await uow.customers.lock_keys(sorted(_lock_keys(keyed)))
        links = []
        for buyer, keys in keyed:
            identity = await _identity_of(uow, buyer, keys, now)
            links.append((buyer.order_id, identity.id))
        await uow.customers.link_orders(links)
        await uow.commit()
    return len(buyers)


def _lock_keys(keyed: list[tuple[Buyer, MatchKeys]]) -> set[str]:
    locks = {f"ref:{buyer.channel_id}:{buyer.ref(keys)}" for buyer, keys in keyed}
    locks |= {f"{rule}:{key}" for _, keys in keyed for rule, key in keys.present()}
    return locks


async def _identity_of(uow: UnitOfWork, buyer: Buyer, keys: MatchKeys, now: datetime) -> Identity:
    """The buyer's identity on their channel: the one known, refreshed; else a new one, with
    the customer its keys match (or a new customer)."""
    known = await uow.customers.identity_by_ref(buyer.channel_id, buyer.ref(keys))
    if known is not None:
        refreshed = _refreshed(known, buyer, keys)
        if refreshed != known:
            await uow.customers.save_identity(refreshed)
        return refreshed
    candidates = await uow.customers.candidates(keys)
    chosen = best(candidates)
    if chosen is None:
        customer = Customer(uuid.uuid4(), buyer.name, buyer.email, buyer.phone, now, now)
        await uow.customers.add_customer(customer)
        rule, why = Rule.NEW, "no other identity has its e-mail, phone, or address and name"
    else:
        customer = await _with_contact(uow, chosen.customer_id, buyer, now)
        rule, why = chosen.rule, evidence(chosen, candidates)
    identity = Identity(
        id=uuid.uuid4(), channel_id=buyer.channel_id, buyer_ref=buyer.ref(keys),
        customer_id=customer.id, name=buyer.name, email=buyer.email, phone=buyer.phone,
        address=dict(buyer.address), keys=keys, rule=rule, evidence=why, linked_at=now,
        linked_by=MATCHER, first_seen_at=buyer.placed_at, last_seen_at=buyer.placed_at,
    )  # fmt: skip
    await uow.customers.add_identity(identity)
    return identity


def _refreshed(identity: Identity, buyer: Buyer, keys: MatchKeys) -> Identity:
    """A known identity after another of its orders: the newer order's details win (an
    older one arriving late changes nothing but when it was first seen). It stays with its
    customer; its new keys let later buyers find it."""
    first = min(identity.first_seen_at, buyer.placed_at)
    if buyer.placed_at < identity.last_seen_at:
        return replace(identity, first_seen_at=first)
    return replace(
        identity, name=buyer.name or identity.name, email=buyer.email or identity.email,
        phone=buyer.phone or identity.phone, address=dict(buyer.address) or identity.address,
        keys=MatchKeys(
            email=keys.email or identity.keys.email, phone=keys.phone or identity.keys.phone,
            address_and_name=keys.address_and_name or identity.keys.address_and_name,
        ),
        first_seen_at=first, last_seen_at=buyer.placed_at,
    )  # fmt: skip


async def _with_contact(
    uow: UnitOfWork, customer_id: uuid.UUID, buyer: Buyer, now: datetime
) -> Customer:
    """The customer, its contact details completed from the buyer where it had none."""
    [customer] = await uow.customers.lock([customer_id])
    updated = replace(
        customer, name=customer.name or buyer.name, email=customer.email or buyer.email,
        phone=customer.phone or buyer.phone,
    )  # fmt: skip
    if updated != customer:
        updated = replace(updated, updated_at=now)
        await uow.customers.save_customer(updated)
    return updated
