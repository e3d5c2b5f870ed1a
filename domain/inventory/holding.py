"""Holding stock for many requests in one transaction: the batch form of `reserve_lines`
and `reserve`.

For requests that arrive together (a worker taking a batch of orders in, concurrent
`reserveStock` calls). The caller has locked every level of every SKU involved, in one
fixed order, and passes those levels in; each request is then held whole or not at all
against what the levels have left, in the order given. Its key is claimed in the same
transaction with the kind, fingerprint and result the one-request operation would give it
(`lines_claim` for `reserve_lines` in partial mode; the caller's own for others), so a
later one-request call with that key replays this one. Per request the ledger rows and
reservations are what the one-request operation writes; the levels, the SKU totals, the
alerts, the events and the channels to tell are written once per level changed, for the
batch's reservations together (as `reserve_lines` does for its lines).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.inventory.idempotency import Operation, fingerprint
from domain.inventory.model import (
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.reservations import (
    LINES_KIND,
    LineMode,
    LineRequest,
    hold_levels,
    lines_request,
    reserve_movement,
)
from domain.ports import UnitOfWork
from domain.sync.model import Dirty
from domain.sync.outbox import mark_dirty


@dataclass(frozen=True, slots=True)
class HoldRequest:
    key: str
    actor: str
    reference: str | None
    lines: tuple[LineRequest, ...]  # each at the location chosen for it
    expires_at: datetime | None = None


# The claim of a request's key once held: the operation the one-request call would record.
ClaimFor = Callable[[HoldRequest, tuple[Reservation, ...], datetime], Operation]


def _fits(request: HoldRequest, left: dict[tuple[str, uuid.UUID], int]) -> bool:
    """Whether the levels cover the whole request; if so, what it takes is taken from `left`."""
    wanted: dict[tuple[str, uuid.UUID], int] = {}
    for line in request.lines:
        if line.location_id is None or line.quantity <= 0:
            return False
        slot = (line.sku, line.location_id)
        wanted[slot] = wanted.get(slot, 0) + line.quantity
    if any(left.get(slot, 0) < quantity for slot, quantity in wanted.items()):
        return False
    for slot, quantity in wanted.items():
        left[slot] -= quantity
    return True


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


def lines_claim(request: HoldRequest, held: tuple[Reservation, ...], now: datetime) -> Operation:
    """The key's claim, with the fingerprint and result `reserve_lines` gives it."""
    fields = lines_request(request.lines, LineMode.PARTIAL, request.reference)
    return Operation(
        key=request.key,
        kind=LINES_KIND,
        fingerprint=fingerprint(LINES_KIND, fields),
        actor=request.actor,
        created_at=now,
        result={"lines": [{"reservationId": str(r.id)} for r in held]},
    )


async def hold_all(
    uow: UnitOfWork,
    requests: Sequence[HoldRequest],
    locked: Mapping[str, SkuSnapshot],
    *,
    now: datetime,
    claim_for: ClaimFor = lines_claim,
) -> dict[str, tuple[Reservation, ...]]:
    """Hold each request whole, in `uow`; the reservations of each request held, by key.

    A request the levels cannot cover whole, or whose key is already claimed (held before,
    or being held by another transaction), is left out. `locked` are the SKUs' levels as
    read under the caller's lock.
    """
    left = {
        (sku, entry.level.location_id): entry.level.available
        for sku, snapshot in locked.items()
        for entry in snapshot.levels
    }
    planned: dict[str, tuple[HoldRequest, tuple[Reservation, ...]]] = {}
    for request in requests:
        if request.key in planned or not _fits(request, left):
            continue
        planned[request.key] = (
            request,
            tuple(_reservation(line, request, now) for line in request.lines),
        )
    claimed = await uow.inventory.record_holds(
        [claim_for(request, held, now) for request, held in planned.values()],
        [(key, r) for key, (_, held) in planned.items() for r in held],
        [
            reserve_movement(r, request.actor, key, now)
            for key, (request, held) in planned.items()
            for r in held
        ],
    )
    held_now = {key: held for key, (_, held) in planned.items() if key in claimed}
    reservations = [r for found in held_now.values() for r in found]
    if not reservations:
        return {}
    # The caller's lock makes a refusal impossible; one would roll everything back.
    changed = await hold_levels(uow, locked, reservations)
    dirty: list[Dirty] = []
    for sku, levels in changed.items():
        channels = await uow.channels.for_sku(sku)
        await levels_changed(
            uow, locked[sku], levels, MovementReason.RESERVE, channels, now, dirty=dirty
        )
    await mark_dirty(uow, dirty, now)
    return held_now
