"""Receipts and counts many to a transaction: what a stock import applies.

The same rules, fingerprints and ledger rows as `stock.receive` and `stock.count`, so a key
taken by one path replays on the other."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.channels.outbox import Dirty, mark_dirty
from domain.clock import Clock, utcnow
from domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidQuantity,
    NotFound,
)
from domain.inventory.alerts import Alert
from domain.inventory.idempotency import Operation, check_key, fingerprint
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
from domain.inventory.stock import (
    change_movement,
    change_request,
    check_positive,
    check_room,
    count_movement,
    count_request,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory


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
