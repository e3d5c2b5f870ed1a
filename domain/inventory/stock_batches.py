"""The one writer of on hand: receipts, returns, adjustments, channel edits and counts, a
batch of many or of one.

Every such change goes through `apply_entries`: a stock import's batch of up to 500
(`receive_and_count`) and each call of `stock.receive`, `count`, `adjust`, `restock_return`
and `channel_edit` (a batch of one). The caller passes the levels of the SKUs involved, as it
read them: locked, in one fixed order (`lock_snapshots`), for a batch; or as read, for a call
of one level, whose one conditional statement then refuses (a delta that would go under what
is reserved, a count whose level moved since it was read) and the caller reads again under
the lock. Each entry applies against its level as the entries before it left it; its key is
claimed, with its result, after the levels moved (the one order of locks, levels then keys,
for both paths) and in the same transaction as its ledger row; each level moves, and is
announced, once.
"""

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
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    StaleExpectedValue,
)
from domain.inventory.alerts import Alert
from domain.inventory.idempotency import Operation, OperationAlreadyRecorded
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    LocationKind,
    MovementReason,
    SkuSnapshot,
    StockLevel,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.results import StockResult, decode_levels, encode_levels
from domain.inventory.stock_requests import StockEntry, check_room, entry_claim, entry_movement
from domain.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["BATCH_ATTEMPTS", "Contended", "EntryOutcome", "StockEntry", "apply_entries",
           "receive_and_count"]  # fmt: skip

EntryOutcome = StockResult | DomainError
BATCH_ATTEMPTS = 3
Slot = tuple[str, uuid.UUID]


class Contended(Exception):
    """A level read without its lock moved before it could be changed: read it again,
    under the lock."""


async def apply_entries(
    uow: UnitOfWork,
    entries: Mapping[int, StockEntry],
    claims: Mapping[int, Operation],
    levels: Mapping[str, SkuSnapshot],
    *,
    locked: bool,
    actor: str,
    now: datetime,
) -> dict[int, EntryOutcome]:
    """Apply each entry in `uow`, in index order; each one's result, or the rule that
    refused it (it changes nothing). Every entry's level must be in `levels`.

    `levels`, `locked`: read under the levels' lock, or (one level only) as read, then
    `Contended` when the level's statement refuses. `OperationAlreadyRecorded` when another
    call holds one of the keys: the caller rolls back and replays it."""
    outcomes: dict[int, EntryOutcome] = {}
    plan = _plan(entries, levels, outcomes)
    if not plan.after:
        return outcomes
    slots = sorted(plan.end, key=lambda s: (s[0], str(s[1])))
    if not locked and len(slots) > 1:
        raise ValueError("levels read without their lock are changed one at a time")
    changes = await _move(uow, plan, slots, levels, locked=locked)
    moved = dict(zip(slots, changes, strict=True))
    applied: dict[int, Operation] = {}
    for index, level in plan.after.items():
        change = moved[(level.sku, level.location_id)]
        assert change is not None
        # The last entry on a level answers with the level as its statement left it; those
        # before it, as they left it on the way.
        last = plan.last[(level.sku, level.location_id)] == index
        done = change.level if last else dataclasses.replace(level, version=change.level.version)
        outcomes[index] = StockResult([done])
        applied[index] = dataclasses.replace(claims[index], result=encode_levels([done]))
    claimed = await uow.operations.claim_many(list(applied.values()))
    if len(claimed) != len(applied):
        taken = next(c.key for c in applied.values() if c.key not in claimed)
        raise OperationAlreadyRecorded(taken)
    await uow.inventory.add_movements(
        [entry_movement(entries[index], plan.before[index], actor, claim.key, now)
         for index, claim in applied.items()]
    )  # fmt: skip
    await _announce(uow, levels, slots, changes, plan, now)
    return outcomes


@dataclass
class _Plan:
    """The entries worked out on the levels read, entry by entry."""

    before: dict[int, int] = dataclasses.field(default_factory=dict)  # on hand before each entry
    after: dict[int, StockLevel] = dataclasses.field(default_factory=dict)  # its level after it
    start: dict[Slot, StockLevel] = dataclasses.field(default_factory=dict)
    end: dict[Slot, StockLevel] = dataclasses.field(default_factory=dict)
    reason: dict[Slot, MovementReason] = dataclasses.field(default_factory=dict)
    last: dict[Slot, int] = dataclasses.field(default_factory=dict)  # the last entry applied
    counted: set[Slot] = dataclasses.field(default_factory=set)  # levels a count sets


def _plan(
    entries: Mapping[int, StockEntry],
    snapshots: Mapping[str, SkuSnapshot],
    outcomes: dict[int, EntryOutcome],
) -> _Plan:
    """Each entry against its level as the entries before it leave it; those the rules
    refuse answered."""
    plan = _Plan()
    running = dict(snapshots)
    for index in sorted(entries):
        entry = entries[index]
        slot = (entry.sku, entry.location_id)
        snapshot = running[entry.sku]
        place = snapshot.location_of(entry.location_id)
        if place is None:
            raise ValueError(f"no level of {entry.sku!r} at {entry.location_id} was read")
        level = place.level
        delta = entry.quantity - level.on_hand if entry.counted else entry.quantity
        sellable = place.location_kind is not LocationKind.CHANNEL_MANAGED
        try:
            check_room(snapshot, entry.location_id, delta, entry.field, sellable=sellable)
            _check_rules(entry, level, place.location_code)
        except DomainError as error:
            outcomes[index] = error
            continue
        moved = dataclasses.replace(level, on_hand=level.on_hand + delta)
        running[entry.sku] = snapshot.with_level(moved)
        plan.before[index], plan.after[index] = level.on_hand, moved
        plan.start.setdefault(slot, level)
        plan.end[slot], plan.reason[slot], plan.last[slot] = moved, entry.reason, index
        if entry.counted:
            plan.counted.add(slot)
    return plan


def _check_rules(entry: StockEntry, level: StockLevel, code: str) -> None:
    """A count sets on hand (if it still is the figure expected) to no less than is
    reserved; a change never takes on hand below what is reserved."""
    if entry.counted:
        expected = entry.expected_on_hand
        if expected is not None and level.on_hand != expected:
            raise StaleExpectedValue(
                f"on hand is {level.on_hand}, not the expected {expected}",
                field="expectedOnHand",
            )
        if entry.quantity < level.reserved:
            raise InvalidQuantity(
                f"counted {entry.quantity} but {level.reserved} are reserved: "
                "release or reallocate reservations first",
                field="onHand",
            )
    elif level.on_hand + entry.quantity < level.reserved:
        raise InsufficientStock(
            f"cannot take {-entry.quantity} off {entry.sku!r} at {code}: "
            f"on hand {level.on_hand}, reserved {level.reserved}",
            field=entry.field,
        )


async def _move(
    uow: UnitOfWork,
    plan: _Plan,
    slots: Sequence[Slot],
    snapshots: Mapping[str, SkuSnapshot],
    *,
    locked: bool,
) -> list[LevelChange | None]:
    """Each level moved once, from where the plan started it to where it ends. Locked: by
    its delta, all in one step. Read without the lock: a count only if on hand still is
    what was read, a change by its delta if it keeps on hand over what is reserved."""
    deltas = []
    for sku, location_id in slots:
        place = snapshots[sku].location_of(location_id)
        assert place is not None
        deltas.append(LevelDelta(
            sku, location_id,
            plan.end[(sku, location_id)].on_hand - plan.start[(sku, location_id)].on_hand, 0,
            sellable=place.location_kind is not LocationKind.CHANNEL_MANAGED,
        ))  # fmt: skip
    if locked:
        changes = await uow.inventory.change_levels(deltas)
    else:
        (delta,) = deltas
        slot = (delta.sku, delta.location_id)
        if slot in plan.counted:
            change = await uow.inventory.count_level(
                delta.sku, delta.location_id, plan.end[slot].on_hand,
                plan.start[slot].on_hand, sellable=delta.sellable,
            )  # fmt: skip
        else:
            change = await uow.inventory.change_level(
                delta.sku, delta.location_id, delta.on_hand_delta, 0, sellable=delta.sellable
            )
        changes = [change]
    if any(change is None for change in changes):
        if locked:
            raise RuntimeError("a level refused a change planned under its lock")
        raise Contended
    return changes


async def _announce(
    uow: UnitOfWork,
    snapshots: Mapping[str, SkuSnapshot],
    slots: Sequence[Slot],
    changes: Sequence[LevelChange | None],
    plan: _Plan,
    now: datetime,
) -> None:
    """Alerts, events and outbox marks: one event per level moved (with the reason of its
    last entry), one alert per SKU whose total crossed a threshold from before the entries
    to after them."""
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


async def receive_and_count(
    uows: UnitOfWorkFactory,
    entries: Sequence[StockEntry],
    *,
    actor: str,
    clock: Clock = utcnow,
) -> list[EntryOutcome]:
    """Entries in one transaction, each as its one call would make it alone and in the
    order given: its own key (replayed if taken), ledger row and rules, a count against the
    level as the entries before it left it. Levels are locked SKU by SKU in one fixed order.
    Each entry's outcome, in order: its result, or the error that kept it out (the others
    apply). A level missing is created at zero apart, before the batch locks its levels:
    an entry refused there leaves it (at zero), where a refused call leaves none."""
    now = clock()
    outcomes: dict[int, EntryOutcome] = {}
    claims: dict[int, Operation] = {}
    for index, entry in enumerate(entries):
        try:
            claims[index] = entry_claim(entry, actor, now)
        except DomainError as error:
            outcomes[index] = error
    if len({claim.key for claim in claims.values()}) != len(claims):
        raise ValueError("a key may appear once in a batch")
    for _ in range(BATCH_ATTEMPTS):
        pending = await _replays(uows, claims, outcomes)
        try:
            if pending:
                outcomes.update(await _apply_batch(uows, entries, pending, actor, now))
            return [outcomes[index] for index in range(len(entries))]
        except (OperationAlreadyRecorded, Contended):
            continue  # another call took a key (the next attempt replays it), or a level went
    raise RuntimeError("the batch's keys or levels kept changing hands")


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
) -> None:
    """Entries naming an unknown SKU or location answered; the levels missing created at
    zero (committed apart, so the batch can lock every level it moves)."""
    async with uows(readonly=True) as uow:
        locations = {location.id for location in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots(sorted({e.sku for e in entries.values()}))
    missing: set[Slot] = set()
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


async def _apply_batch(
    uows: UnitOfWorkFactory,
    entries: Sequence[StockEntry],
    claims: Mapping[int, Operation],
    actor: str,
    now: datetime,
) -> dict[int, EntryOutcome]:
    """The entries not replayed, in one transaction on their levels locked."""
    outcomes: dict[int, EntryOutcome] = {}
    chosen = {index: entries[index] for index in claims}
    await _prepare_levels(uows, chosen, outcomes)
    live = {index: entry for index, entry in chosen.items() if index not in outcomes}
    if not live:
        return outcomes
    async with uows() as uow:
        levels = await uow.inventory.lock_snapshots(sorted({e.sku for e in live.values()}))
        if any(
            e.sku not in levels or levels[e.sku].level_at(e.location_id) is None
            for e in live.values()
        ):
            raise Contended  # its SKU was dropped meanwhile: the next attempt tells
        outcomes.update(await apply_entries(
            uow, live, {index: claims[index] for index in live}, levels, locked=True,
            actor=actor, now=now,
        ))  # fmt: skip
        await uow.commit()
    return outcomes
