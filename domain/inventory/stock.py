"""Changing stock on hand: receive, return, adjust, channel edit, count, transfer. Each is
idempotent by key. All but a transfer are a batch of one over the one writer of on hand
(`stock_batches.apply_entries`), which a stock import's batches go through too."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from domain.clock import Clock, utcnow
from domain.errors import (
    DomainError,
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    SameLocation,
)
from domain.inventory import stock_batches
from domain.inventory.idempotency import Operation, check_key, fingerprint, run_once
from domain.inventory.model import (
    LevelChange,
    Location,
    Movement,
    MovementReason,
    SkuSnapshot,
    StockLevel,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.results import StockResult, decode_levels, encode_levels
from domain.inventory.stock_requests import StockEntry, check_positive, check_room, entry_claim
from domain.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["adjust", "channel_edit", "check_positive", "count", "idempotent", "load_location",
           "load_sku", "receive", "restock_return", "transfer"]  # fmt: skip


async def load_sku(uow: UnitOfWork, sku: str, field: str = "sku") -> SkuSnapshot:
    snapshot = await uow.inventory.snapshot(sku)
    if snapshot is None:
        raise NotFound(f"unknown SKU {sku!r}", field=field)
    return snapshot


async def load_location(uow: UnitOfWork, location_id: uuid.UUID, field: str) -> Location:
    location = await uow.inventory.get_location(location_id)
    if location is None:
        raise NotFound(f"unknown location {location_id}", field=field)
    return location


async def idempotent(
    uows: UnitOfWorkFactory,
    key: str,
    kind: str,
    request: Mapping[str, Any],
    perform: Callable[[Operation], Awaitable[Mapping[str, Any]]],
    actor: str,
    now: datetime,
    *,
    expected: str | None = None,
) -> tuple[Mapping[str, Any], bool]:
    """Run `perform(claim)` once per key; `perform` claims the key inside its transaction.
    `expected`: the request's fingerprint, when the caller has taken it already."""
    key = check_key(key)
    expected = expected or fingerprint(kind, request)
    claim = Operation(key=key, kind=kind, fingerprint=expected, actor=actor, created_at=now)

    async def stored() -> Operation | None:
        async with uows(readonly=True) as uow:
            return await uow.operations.get(key)

    outcome = await run_once(lambda: perform(claim), stored, expected)
    return outcome.result, outcome.replayed


async def _apply_alone(
    uows: UnitOfWorkFactory, entry: StockEntry, actor: str, now: datetime
) -> StockResult:
    """One call's entry as a batch of one (`stock_batches.apply_entries`), in its own
    transaction.

    Its level is read as it is and moved by one conditional statement, which takes the
    level's lock only until the commit. When that statement refuses (another call moved the
    level first), or the rules refuse on what was read, the call reads the level again under
    its lock and decides on that: a call is refused only on a level read under its lock,
    and after its key is claimed, so that a replay answers even where the call would now be
    refused. A level missing is created in the call's own transaction: a refused call leaves
    none."""
    claim = entry_claim(entry, actor, now)

    async def perform(_: Operation) -> Mapping[str, Any]:
        locking = False
        while True:
            async with uows() as uow:
                levels = await _levels(uow, entry, locking=locking)
                try:
                    outcomes = await stock_batches.apply_entries(
                        uow, {0: entry}, {0: claim}, levels, locked=locking, actor=actor, now=now
                    )
                except stock_batches.Contended:
                    locking = True
                    continue
                outcome = outcomes[0]
                if isinstance(outcome, DomainError):
                    if not locking:
                        locking = True
                        continue
                    await uow.operations.claim(claim)  # a replay answers before a refusal
                    raise outcome
                await uow.commit()
                return encode_levels(outcome.levels)

    result, replayed = await idempotent(
        uows, claim.key, claim.kind, {}, perform, actor, now, expected=claim.fingerprint
    )
    return StockResult(decode_levels(result), replayed)


async def _levels(uow: UnitOfWork, entry: StockEntry, *, locking: bool) -> dict[str, SkuSnapshot]:
    """The entry's SKU and its levels, locked or as read; its level created at zero (in
    `uow`) if there was none."""
    read = uow.inventory.lock_snapshots if locking else uow.inventory.snapshots
    levels = await read([entry.sku])
    snapshot = levels.get(entry.sku)
    if snapshot is None:
        raise NotFound(f"unknown SKU {entry.sku!r}", field="sku")
    if snapshot.level_at(entry.location_id) is None:
        location = await load_location(uow, entry.location_id, "locationId")
        await uow.inventory.ensure_level(entry.sku, entry.location_id)
        if locking:
            return await read([entry.sku])
        zero = StockLevel(entry.sku, entry.location_id, 0, 0, 0)
        return {entry.sku: snapshot.with_level(zero, location)}
    return levels


async def receive(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    location_id: uuid.UUID,
    quantity: int,
    key: str,
    actor: str,
    note: str | None = None,
    clock: Clock = utcnow,
) -> StockResult:
    """Units arrived at a location: on hand goes up."""
    entry = StockEntry(MovementReason.RECEIVE, sku, location_id, quantity, key, note=note)
    return await _apply_alone(uows, entry, actor, clock())


async def restock_return(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    location_id: uuid.UUID,
    quantity: int,
    key: str,
    actor: str,
    detail: str,
    clock: Clock = utcnow,
) -> StockResult:
    """Returned units go back on the shelf (reason `return`)."""
    entry = StockEntry(MovementReason.RETURN, sku, location_id, quantity, key, detail=detail)
    return await _apply_alone(uows, entry, actor, clock())


async def channel_edit(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    location_id: uuid.UUID,
    delta: int,
    key: str,
    actor: str,
    detail: str,
    now: datetime,
) -> StockResult:
    """A stock edit made on a channel's side, accepted into the hub (reason `channel_edit`)."""
    entry = StockEntry(MovementReason.CHANNEL_EDIT, sku, location_id, delta, key, detail=detail)
    return await _apply_alone(uows, entry, actor, now)


async def adjust(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    location_id: uuid.UUID,
    delta: int,
    reason: str,
    key: str,
    actor: str,
    note: str | None = None,
    clock: Clock = utcnow,
) -> StockResult:
    """Correct on hand by a signed amount, with a reason; never below what is reserved."""
    if delta == 0:
        raise InvalidQuantity("delta must not be zero", field="delta")
    if not reason.strip():
        raise InvalidQuantity("an adjustment needs a reason", field="reason")
    entry = StockEntry(
        MovementReason.ADJUST, sku, location_id, delta, key, note=note, detail=reason.strip()
    )
    return await _apply_alone(uows, entry, actor, clock())


async def count(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    location_id: uuid.UUID,
    on_hand: int,
    expected_on_hand: int | None,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> StockResult:
    """A cycle count: on hand becomes `on_hand`, if it still is `expected_on_hand` (when given).

    Without an expectation the count applies against the current value, whatever it is;
    the ledger records the difference either way. Never below what is reserved.
    """
    entry = StockEntry(
        MovementReason.COUNT, sku, location_id, on_hand, key, expected_on_hand=expected_on_hand
    )
    return await _apply_alone(uows, entry, actor, clock())


async def transfer(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    from_location_id: uuid.UUID,
    to_location_id: uuid.UUID,
    quantity: int,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> StockResult:
    """Move available units between locations: both legs or neither."""
    check_positive(quantity)
    if from_location_id == to_location_id:
        raise SameLocation("a transfer needs two different locations", field="toLocationId")
    now = clock()
    request = {
        "sku": sku,
        "from": str(from_location_id),
        "to": str(to_location_id),
        "quantity": quantity,
    }

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            snapshot = await load_sku(uow, sku)
            source = await load_location(uow, from_location_id, "fromLocationId")
            target = await load_location(uow, to_location_id, "toLocationId")
            channels = await uow.channels.for_sku(sku)
            # Between two sellable locations (or two not) the sellable total does not change.
            gains = target.sellable_by_hub and not source.sellable_by_hub
            check_room(snapshot, to_location_id, quantity, "quantity", sellable=gains)
            await uow.operations.claim(claim)
            if snapshot.level_at(to_location_id) is None:
                # The SKU's levels locked (in their fixed order) before the new one is made:
                # a writer holding them that makes the same level waits here, not in a
                # deadlock (it inserting the level this transaction made, this one updating
                # a level it holds).
                await uow.inventory.lock_snapshots([sku])
                await uow.inventory.ensure_level(sku, to_location_id)
                snapshot = snapshot.with_level(StockLevel(sku, to_location_id, 0, 0, 0), target)
            if snapshot.level_at(from_location_id) is None:
                # Not there when read, but it may be by the time the leg is applied.
                snapshot = snapshot.with_level(StockLevel(sku, from_location_id, 0, 0, 0), source)
            legs = sorted(
                [(from_location_id, -quantity), (to_location_id, quantity)],
                key=lambda leg: str(leg[0]),  # fixed lock order: no deadlock between transfers
            )
            levels: dict[uuid.UUID, StockLevel] = {}
            for location_id, delta in legs:
                # Both legs first, the SKU's total after: every operation takes level locks
                # before the item's, so transfers and reservations cannot deadlock.
                change = await uow.inventory.change_level(
                    sku, location_id, delta, 0, sellable=False
                )
                if change is None:
                    available = snapshot.level_at(from_location_id)
                    raise InsufficientStock(
                        f"only {available.available if available else 0} of {sku!r} "
                        f"available at {source.code}",
                        field="quantity",
                    )
                levels[location_id] = change.level
            reference = f"transfer:{claim.key}"
            await uow.inventory.add_movements(
                [
                    Movement(
                        id=uuid.uuid4(),
                        sku=sku,
                        location_id=location_id,
                        on_hand_delta=delta,
                        reserved_delta=0,
                        reason=MovementReason.TRANSFER,
                        actor=actor,
                        operation_key=claim.key,
                        created_at=now,
                        reference=reference,
                    )
                    for location_id, delta in legs
                ]
            )
            net = quantity * (target.sellable_by_hub - source.sellable_by_hub)
            total = await uow.inventory.move_sku_total(sku, net) if net else None
            changes = [
                LevelChange(levels[from_location_id]),
                LevelChange(levels[to_location_id], *(total or (None, None))),
            ]
            result = encode_levels([c.level for c in changes])
            await uow.operations.complete(claim.key, result)
            await levels_changed(uow, snapshot, changes, MovementReason.TRANSFER, channels, now)
            await uow.commit()
            return result

    result, replayed = await idempotent(uows, key, "transfer", request, perform, actor, now)
    return StockResult(decode_levels(result), replayed)
