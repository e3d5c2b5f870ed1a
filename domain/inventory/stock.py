"""Changing stock on hand: receive, adjust, count, transfer. Each is idempotent by key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from domain.clock import Clock, utcnow
from domain.errors import (
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    SameLocation,
    StaleExpectedValue,
)
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
from domain.limits import MAX_UNITS
from domain.ports import UnitOfWork, UnitOfWorkFactory

COUNT_ATTEMPTS = 5


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


def change_request(
    sku: str, location_id: uuid.UUID, delta: int, detail: str | None
) -> dict[str, Any]:
    """What a receipt, return, adjustment or channel edit is fingerprinted by."""
    return {"sku": sku, "locationId": str(location_id), "delta": delta, "detail": detail}


def count_request(
    sku: str, location_id: uuid.UUID, on_hand: int, expected_on_hand: int | None
) -> dict[str, Any]:
    """What a count is fingerprinted by."""
    return {
        "sku": sku,
        "locationId": str(location_id),
        "onHand": on_hand,
        "expectedOnHand": expected_on_hand,
    }


def change_movement(
    sku: str,
    location_id: uuid.UUID,
    delta: int,
    reason: MovementReason,
    actor: str,
    key: str,
    now: datetime,
    note: str | None,
    detail: str | None,
) -> Movement:
    """The ledger row of a receipt, return, adjustment or channel edit."""
    return Movement(
        id=uuid.uuid4(),
        sku=sku,
        location_id=location_id,
        on_hand_delta=delta,
        reserved_delta=0,
        reason=reason,
        actor=actor,
        operation_key=key,
        created_at=now,
        note=note,
        detail=detail,
    )


def count_movement(
    sku: str,
    location_id: uuid.UUID,
    on_hand: int,
    was: int,
    actor: str,
    key: str,
    now: datetime,
) -> Movement:
    """The ledger row of a count: the difference it made, and both figures."""
    return Movement(
        id=uuid.uuid4(),
        sku=sku,
        location_id=location_id,
        on_hand_delta=on_hand - was,
        reserved_delta=0,
        reason=MovementReason.COUNT,
        actor=actor,
        operation_key=key,
        created_at=now,
        detail=f"counted {on_hand}, was {was}",
    )


def check_positive(quantity: int, field: str = "quantity") -> None:
    if quantity <= 0:
        raise InvalidQuantity("quantity must be a positive whole number", field=field)


def check_room(
    snapshot: SkuSnapshot, location_id: uuid.UUID, delta: int, field: str, *, sellable: bool
) -> None:
    """A level's on hand, and the SKU's sellable total, stay within `MAX_UNITS` (each input
    may fit while their sum does not). Read from the snapshot: a race between two large
    receives can still meet the column's own limit."""
    if delta <= 0:
        return
    level = snapshot.level_at(location_id)
    on_hand = level.on_hand if level is not None else 0
    total = snapshot.sellable_available if sellable else 0
    if on_hand + delta > MAX_UNITS or total + delta > MAX_UNITS:
        raise InvalidQuantity(
            f"{snapshot.item.sku} would hold more than {MAX_UNITS} units", field=field
        )


async def _change_on_hand(
    uows: UnitOfWorkFactory,
    *,
    kind: str,
    reason: MovementReason,
    sku: str,
    location_id: uuid.UUID,
    delta: int,
    key: str,
    actor: str,
    now: datetime,
    note: str | None,
    detail: str | None,
) -> StockResult:
    request = change_request(sku, location_id, delta, detail)

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            snapshot = await load_sku(uow, sku)
            location = await load_location(uow, location_id, "locationId")
            channels = await uow.channels.for_sku(sku)
            await uow.operations.claim(claim)
            field = "delta" if kind == "adjust" else "quantity"
            check_room(snapshot, location_id, delta, field, sellable=location.sellable_by_hub)
            if snapshot.level_at(location_id) is None:
                await uow.inventory.ensure_level(sku, location_id)
                snapshot = snapshot.with_level(StockLevel(sku, location_id, 0, 0, 0), location)
            change = await uow.inventory.change_level(
                sku, location_id, delta, 0, sellable=location.sellable_by_hub
            )
            if change is None:
                current = snapshot.level_at(location_id)
                assert current is not None
                raise InsufficientStock(
                    f"cannot take {-delta} off {sku!r} at {location.code}: "
                    f"on hand {current.on_hand}, reserved {current.reserved}",
                    field=field,
                )
            await uow.inventory.add_movements(
                [
                    change_movement(
                        sku, location_id, delta, reason, actor, claim.key, now, note, detail
                    )
                ]
            )
            result = encode_levels([change.level])
            await uow.operations.complete(claim.key, result)
            await levels_changed(uow, snapshot, [change], reason, channels, now)
            await uow.commit()
            return result

    result, replayed = await idempotent(uows, key, kind, request, perform, actor, now)
    return StockResult(decode_levels(result), replayed)


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
    check_positive(quantity)
    return await _change_on_hand(
        uows,
        kind="receive",
        reason=MovementReason.RECEIVE,
        sku=sku,
        location_id=location_id,
        delta=quantity,
        key=key,
        actor=actor,
        now=clock(),
        note=note,
        detail=None,
    )


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
    check_positive(quantity)
    return await _change_on_hand(
        uows,
        kind="return",
        reason=MovementReason.RETURN,
        sku=sku,
        location_id=location_id,
        delta=quantity,
        key=key,
        actor=actor,
        now=clock(),
        note=None,
        detail=detail,
    )


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
    return await _change_on_hand(
        uows,
        kind="channel_edit",
        reason=MovementReason.CHANNEL_EDIT,
        sku=sku,
        location_id=location_id,
        delta=delta,
        key=key,
        actor=actor,
        now=now,
        note=None,
        detail=detail,
    )


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
    return await _change_on_hand(
        uows,
        kind="adjust",
        reason=MovementReason.ADJUST,
        sku=sku,
        location_id=location_id,
        delta=delta,
        key=key,
        actor=actor,
        now=clock(),
        note=note,
        detail=reason.strip(),
    )


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
    the ledger records the difference either way.
    """
    if on_hand < 0:
        raise InvalidQuantity("a count cannot be negative", field="onHand")
    now = clock()
    request = count_request(sku, location_id, on_hand, expected_on_hand)

    async def perform(claim: Operation) -> Mapping[str, Any]:
        for _ in range(COUNT_ATTEMPTS):
            async with uows() as uow:
                snapshot = await load_sku(uow, sku)
                location = await load_location(uow, location_id, "locationId")
                channels = await uow.channels.for_sku(sku)
                await uow.operations.claim(claim)
                current = snapshot.level_at(location_id)
                if current is None:
                    await uow.inventory.ensure_level(sku, location_id)
                    current = StockLevel(sku, location_id, 0, 0, 0)
                    snapshot = snapshot.with_level(current, location)
                check_room(
                    snapshot,
                    location_id,
                    on_hand - current.on_hand,
                    "onHand",
                    sellable=location.sellable_by_hub,
                )
                expected = current.on_hand if expected_on_hand is None else expected_on_hand
                if expected_on_hand is not None and current.on_hand != expected_on_hand:
                    raise StaleExpectedValue(
                        f"on hand is {current.on_hand}, not the expected {expected_on_hand}",
                        field="expectedOnHand",
                    )
                if on_hand < current.reserved:
                    raise InvalidQuantity(
                        f"counted {on_hand} but {current.reserved} are reserved: "
                        "release or reallocate reservations first",
                        field="onHand",
                    )
                change = await uow.inventory.count_level(
                    sku, location_id, on_hand, expected, sellable=location.sellable_by_hub
                )
                if change is None:
                    if expected_on_hand is not None:
                        raise StaleExpectedValue(
                            "on hand changed while counting", field="expectedOnHand"
                        )
                    continue  # changed under us: read again and count against the new value
                await uow.inventory.add_movements(
                    [count_movement(sku, location_id, on_hand, expected, actor, claim.key, now)]
                )
                result = encode_levels([change.level])
                await uow.operations.complete(claim.key, result)
                await levels_changed(uow, snapshot, [change], MovementReason.COUNT, channels, now)
                await uow.commit()
                return result
        raise StaleExpectedValue("on hand kept changing while counting", field="onHand")

    result, replayed = await idempotent(uows, key, "count", request, perform, actor, now)
    return StockResult(decode_levels(result), replayed)


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
