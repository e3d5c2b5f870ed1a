"""Changing stock on hand: receive, adjust, count, transfer. Each is idempotent by key."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.channels.outbox import Dirty, mark_dirty
from domain.clock import Clock, utcnow
from domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    SameLocation,
    StaleExpectedValue,
)
from domain.inventory.alerts import Alert
from domain.inventory.idempotency import Operation, check_key, fingerprint, run_once
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
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


@dataclass(frozen=True, slots=True)
class StockEntry:
    """One line for `receive_and_count`: a receipt (`RECEIVE`, on hand goes up by
    `quantity`) or a count (`COUNT`, on hand becomes `quantity`), under its own key."""

    reason: MovementReason
    sku: str
    location_id: uuid.UUID
    quantity: int
    key: str
    note: str | None = None  # receipts only, as `receive` takes it


EntryOutcome = StockResult | DomainError
BATCH_ATTEMPTS = 3


class _Contended(Exception):
    """A key or level changed hands between reading and writing: read again and retry."""


async def receive_and_count(
    uows: UnitOfWorkFactory,
    entries: Sequence[StockEntry],
    *,
    actor: str,
    clock: Clock = utcnow,
) -> list[EntryOutcome]:
    """Receipts and counts in one transaction, each as `receive` or `count` (without an
    expectation) would make it alone and in the order given: its own key (replayed if
    taken), ledger row and rules, a count against the level as the entries before it left
    it. Levels are locked SKU by SKU in one fixed order; each level moves, and is
    announced, once. Each entry's outcome, in order: its result, or the error that kept it
    out (the others apply)."""
    now = clock()
    outcomes: dict[int, EntryOutcome] = {}
    claims: dict[int, Operation] = {}
    for index, entry in enumerate(entries):
        try:
            claims[index] = _entry_claim(entry, actor, now)
        except DomainError as error:
            outcomes[index] = error
    if len({claim.key for claim in claims.values()}) != len(claims):
        raise ValueError("a key may appear once in a batch")
    for _ in range(BATCH_ATTEMPTS):
        pending = await _replays(uows, claims, outcomes)
        try:
            if pending:
                outcomes.update(await _apply_entries(uows, entries, pending, actor, now))
            return [outcomes[index] for index in range(len(entries))]
        except _Contended:
            continue
    raise RuntimeError("the batch's keys or levels kept changing hands")


def _entry_claim(entry: StockEntry, actor: str, now: datetime) -> Operation:
    if entry.reason is MovementReason.RECEIVE:
        check_positive(entry.quantity)
        kind, request = (
            "receive",
            change_request(entry.sku, entry.location_id, entry.quantity, None),
        )
    elif entry.reason is MovementReason.COUNT:
        if entry.quantity < 0:
            raise InvalidQuantity("a count cannot be negative", field="onHand")
        kind, request = "count", count_request(entry.sku, entry.location_id, entry.quantity, None)
    else:
        raise ValueError(f"a batch receives and counts, not {entry.reason}")
    key = check_key(entry.key)
    return Operation(key, kind, fingerprint(kind, request), actor, now)


async def _replays(
    uows: UnitOfWorkFactory, claims: Mapping[int, Operation], outcomes: dict[int, EntryOutcome]
) -> dict[int, Operation]:
    """Answer the entries whose keys are taken from what their first call stored; the rest."""
    pending = {index: claim for index, claim in claims.items() if index not in outcomes}
    async with uows(readonly=True) as uow:
        stored = await uow.operations.get_many([claim.key for claim in pending.values()])
    for index, claim in list(pending.items()):
        operation = stored.get(claim.key)
        if operation is None:
            continue
        del pending[index]
        if operation.fingerprint != claim.fingerprint:
            outcomes[index] = IdempotencyKeyReused(
                "this idempotency key was used for a different operation or input",
                field="idempotencyKey",
            )
        else:
            outcomes[index] = StockResult(decode_levels(operation.result or {}), replayed=True)
    return pending


async def _prepare_levels(
    uows: UnitOfWorkFactory, entries: Mapping[int, StockEntry], outcomes: dict[int, EntryOutcome]
) -> dict[uuid.UUID, Location]:
    """The locations; entries naming an unknown SKU or location answered; the levels missing
    created at zero (committed apart, so the batch can lock every level it moves)."""
    async with uows(readonly=True) as uow:
        locations = {location.id: location for location in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots(sorted({e.sku for e in entries.values()}))
    missing: set[tuple[str, uuid.UUID]] = set()
    for index, entry in entries.items():
        snapshot = snapshots.get(entry.sku)
        if snapshot is None:
            outcomes[index] = NotFound(f"unknown SKU {entry.sku!r}", field="sku")
        elif entry.location_id not in locations:
            outcomes[index] = NotFound(f"unknown location {entry.location_id}", field="locationId")
        elif snapshot.level_at(entry.location_id) is None:
            missing.add((entry.sku, entry.location_id))
    if missing:
        async with uows() as uow:
            await uow.inventory.ensure_levels(sorted(missing, key=lambda s: (s[0], str(s[1]))))
            await uow.commit()
    return locations


@dataclass
class _Plan:
    """The batch worked out on the locked levels, entry by entry."""

    before: dict[int, int] = dataclasses.field(default_factory=dict)  # on hand before each entry
    after: dict[int, StockLevel] = dataclasses.field(default_factory=dict)  # its level after it
    start: dict[tuple[str, uuid.UUID], StockLevel] = dataclasses.field(default_factory=dict)
    end: dict[tuple[str, uuid.UUID], StockLevel] = dataclasses.field(default_factory=dict)
    reason: dict[tuple[str, uuid.UUID], MovementReason] = dataclasses.field(default_factory=dict)


def _plan(
    entries: Mapping[int, StockEntry],
    snapshots: Mapping[str, SkuSnapshot],
    locations: Mapping[uuid.UUID, Location],
    outcomes: dict[int, EntryOutcome],
) -> _Plan:
    """Each entry against its level as the entries before it leave it; the rules refused
    answered (they change nothing), as `receive` and `count` check them."""
    plan = _Plan()
    running = dict(snapshots)
    for index in sorted(entries):
        entry = entries[index]
        slot = (entry.sku, entry.location_id)
        snapshot = running[entry.sku]
        level = snapshot.level_at(entry.location_id)
        if level is None:
            raise _Contended  # created apart, so it must be there
        sellable = locations[entry.location_id].sellable_by_hub
        counted = entry.reason is MovementReason.COUNT
        delta = entry.quantity - level.on_hand if counted else entry.quantity
        try:
            check_room(snapshot, entry.location_id, delta, "onHand" if counted else "quantity",
                       sellable=sellable)  # fmt: skip
            if counted and entry.quantity < level.reserved:
                raise InvalidQuantity(
                    f"counted {entry.quantity} but {level.reserved} are reserved: "
                    "release or reallocate reservations first",
                    field="onHand",
                )
        except DomainError as error:
            outcomes[index] = error
            continue
        moved = StockLevel(entry.sku, entry.location_id, level.on_hand + delta, level.reserved,
                           level.version)  # fmt: skip
        running[entry.sku] = snapshot.with_level(moved)
        plan.before[index], plan.after[index] = level.on_hand, moved
        plan.start.setdefault(slot, level)
        plan.end[slot], plan.reason[slot] = moved, entry.reason
    return plan


async def _apply_entries(
    uows: UnitOfWorkFactory,
    entries: Sequence[StockEntry],
    claims: Mapping[int, Operation],
    actor: str,
    now: datetime,
) -> dict[int, EntryOutcome]:
    """One transaction: lock, plan, move each level once, claim the keys, write the ledger
    and tell the channels; `_Contended` when a key or level moved meanwhile."""
    outcomes: dict[int, EntryOutcome] = {}
    chosen = {index: entries[index] for index in claims}
    locations = await _prepare_levels(uows, chosen, outcomes)
    live = {index: entry for index, entry in chosen.items() if index not in outcomes}
    if not live:
        return outcomes
    async with uows() as uow:
        snapshots = await uow.inventory.lock_snapshots(sorted({e.sku for e in live.values()}))
        plan = _plan(live, snapshots, locations, outcomes)
        if not plan.after:
            return outcomes
        slots = sorted(plan.end, key=lambda s: (s[0], str(s[1])))
        changes = await uow.inventory.change_levels(
            [
                LevelDelta(sku, location_id, plan.end[(sku, location_id)].on_hand
                           - plan.start[(sku, location_id)].on_hand, 0,
                           sellable=locations[location_id].sellable_by_hub)
                for sku, location_id in slots
            ]
        )  # fmt: skip
        if any(change is None for change in changes):
            raise _Contended
        version = {
            slot: change.level.version
            for slot, change in zip(slots, changes, strict=True)
            if change
        }
        applied: dict[int, Operation] = {}
        for index, level in plan.after.items():
            done = dataclasses.replace(level, version=version[(level.sku, level.location_id)])
            outcomes[index] = StockResult([done])
            applied[index] = dataclasses.replace(claims[index], result=encode_levels([done]))
        if len(await uow.operations.claim_many(list(applied.values()))) != len(applied):
            raise _Contended  # another call took a key: the next attempt replays it
        await uow.inventory.add_movements(
            [_entry_movement(entries[index], plan.before[index], actor, claim.key, now)
             for index, claim in applied.items()]
        )  # fmt: skip
        await _announce(uow, snapshots, slots, changes, plan, now)
        await uow.commit()
    return outcomes


def _entry_movement(
    entry: StockEntry, before: int, actor: str, key: str, now: datetime
) -> Movement:
    if entry.reason is MovementReason.COUNT:
        return count_movement(entry.sku, entry.location_id, entry.quantity, before, actor, key, now)
    return change_movement(
        entry.sku, entry.location_id, entry.quantity, MovementReason.RECEIVE, actor, key, now,
        entry.note, None,
    )  # fmt: skip


async def _announce(
    uow: UnitOfWork,
    snapshots: Mapping[str, SkuSnapshot],
    slots: Sequence[tuple[str, uuid.UUID]],
    changes: Sequence[LevelChange | None],
    plan: _Plan,
    now: datetime,
) -> None:
    """Alerts, events and outbox marks as `receive` and `count` make them: one event per
    level moved (with the reason of its last entry), one alert per SKU whose total crossed
    a threshold from before the batch to after it."""
    dirty: list[Dirty] = []
    raised: list[Alert] = []
    by_sku: dict[str, list[tuple[LevelChange, MovementReason]]] = {}
    for slot, change in zip(slots, changes, strict=True):
        assert change is not None
        by_sku.setdefault(slot[0], []).append((change, plan.reason[slot]))
    for sku, moved in by_sku.items():
        channels = await uow.channels.for_sku(sku)
        await levels_changed(
            uow, snapshots[sku], [c for c, _ in moved], [why for _, why in moved], channels,
            now, dirty=dirty, raised=raised,
        )  # fmt: skip
    await uow.alerts.add_many(raised)
    await mark_dirty(uow, list(dict.fromkeys(dirty)), now)


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
