"""The one writer of holds: stock reserved for requests, a batch of many or of one.

Every hold goes through `hold_all`: `reserve` and `reserve_lines` (a batch of one), the
reservation desk (the single reservations and carts that arrive together) and a worker taking
a batch of orders in. The caller passes the levels of every SKU involved, as it read them:
locked, in one fixed order (`lock_snapshots`), for a batch or a call of several lines; or as
read, for a call of one line, whose one conditional level change then refuses (and rolls it
back) if another hold took the units first. Each request is held whole or not at all against
what the levels have left, in the order given. Its key is claimed in the same
statement that adds its reservations and ledger rows, with the record its `KeyClaim` gives
(`hold_requests`), so a later call with the key replays it whichever path held it. The
levels and the SKU totals change in that same step (`InventoryRepository.hold`), once per
level for the batch's reservations together; the alerts, the events and the channels to tell
follow, once per level changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.channels.outbox import Dirty, mark_dirty
from domain.errors import InsufficientStock
from domain.inventory.hold_requests import KeyClaim, LineRequest, reserve_movement
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LevelChange,
    LocationKind,
    Movement,
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
)
from domain.inventory.publishing import levels_changed
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class HoldRequest:
    key: str
    actor: str
    reference: str | None
    lines: tuple[LineRequest, ...]  # the lines to hold, each at the location chosen for it
    claim: KeyClaim  # what the key stands for and records
    expires_at: datetime | None = None


class _Left(dict[tuple[str, uuid.UUID], int]):
    """What each level has left to hold, by (SKU, location): read from the snapshots when
    first asked for, so a batch reads the levels its requests ask for and no others."""

    def __init__(self, locked: Mapping[str, SkuSnapshot]):
        super().__init__()
        self._locked = locked

    def __missing__(self, slot: tuple[str, uuid.UUID]) -> int:
        snapshot = self._locked.get(slot[0])
        level = snapshot.level_at(slot[1]) if snapshot is not None else None
        self[slot] = available = level.available if level is not None else 0
        return available


def _fits(request: HoldRequest, left: _Left) -> bool:
    """Whether the levels cover the whole request; if so, what it takes is taken from `left`."""
    if len(request.lines) == 1:  # most requests: nothing to add up
        (line,) = request.lines
        if line.location_id is None or line.quantity <= 0:
            return False
        slot = (line.sku, line.location_id)
        if left[slot] < line.quantity:
            return False
        left[slot] -= line.quantity
        return True
    wanted: dict[tuple[str, uuid.UUID], int] = {}
    for line in request.lines:
        if line.location_id is None or line.quantity <= 0:
            return False
        slot = (line.sku, line.location_id)
        wanted[slot] = wanted.get(slot, 0) + line.quantity
    if any(left[slot] < quantity for slot, quantity in wanted.items()):
        return False
    for slot, quantity in wanted.items():
        left[slot] -= quantity
    return True


def _sellable(locked: Mapping[str, SkuSnapshot], sku: str, location_id: uuid.UUID) -> bool:
    """Whether a level counts in its SKU's sellable total (a channel's own stock does not)."""
    entry = locked[sku].location_of(location_id)
    return entry is not None and entry.location_kind is not LocationKind.CHANNEL_MANAGED


def _reservation(line: LineRequest, request: HoldRequest, now: datetime) -> Reservation:
    assert line.location_id is not None
    return Reservation(
        id=uuid.uuid4(),
        sku=line.sku,
        location_id=line.location_id,
        quantity=line.quantity,
        status=ReservationStatus.ACTIVE,
        reference=request.reference,
        created_at=now,
        expires_at=request.expires_at,
    )


async def hold_all(
    uow: UnitOfWork,
    requests: Sequence[HoldRequest],
    locked: Mapping[str, SkuSnapshot],
    *,
    now: datetime,
) -> dict[str, tuple[Reservation, ...]]:
    """Hold each request whole, in `uow`; the reservations of each request held, by key (a
    request of no lines is recorded too, holding nothing).

    A request the levels cannot cover whole, or whose key is already claimed (held before,
    or being held by another transaction), is left out. `locked` are the SKUs' levels as
    read under the caller's lock; read without one (a request of one level), they may be
    stale, and a level that cannot take its hold raises InsufficientStock: the caller rolls
    back and reads again.
    """
    left = _Left(locked)
    planned: dict[str, tuple[HoldRequest, tuple[Reservation, ...]]] = {}
    for request in requests:
        if request.key in planned or not _fits(request, left):
            continue
        planned[request.key] = (
            request,
            tuple(_reservation(line, request, now) for line in request.lines),
        )
    records: list[Operation] = []
    pairs: list[tuple[str, Reservation]] = []
    movements: list[Movement] = []
    sellable: dict[tuple[str, uuid.UUID], bool] = {}  # the levels held from, and no others
    for key, (request, held) in planned.items():
        records.append(request.claim.record(key, request.actor, held, now))
        for r in held:
            pairs.append((key, r))
            movements.append(reserve_movement(r, request.actor, key, now))
            slot = (r.sku, r.location_id)
            if slot not in sellable:
                sellable[slot] = _sellable(locked, r.sku, r.location_id)
    claimed, levels = await uow.inventory.hold(records, pairs, movements, sellable)
    held_now = {key: held for key, (_, held) in planned.items() if key in claimed}
    changed: dict[str, list[LevelChange]] = {}
    for delta, change in levels:
        if change is None:
            # Under the caller's lock no level can refuse; one read without it may (see
            # above): the caller rolls everything back.
            raise InsufficientStock(f"not enough {delta.sku!r} available", field="lines")
        changed.setdefault(delta.sku, []).append(change)
    dirty: list[Dirty] = []
    for sku, changes in changed.items():
        channels = await uow.channels.for_sku(sku)
        await levels_changed(
            uow, locked[sku], changes, MovementReason.RESERVE, channels, now, dirty=dirty
        )
    await mark_dirty(uow, dirty, now)
    return held_now
