"""Letting go of reservations inside a caller's unit of work that has them locked.

For a use case that releases holds as one step of a larger change (an order its channel
cancelled): the caller locked the reservations (`lock_reservations`, after whatever it locks
first); their levels are locked here, in (SKU, location) order, then each reservation is
closed with its `release` ledger row and each level changed once, with the alerts, events
and outbox marks of any release.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.channels.outbox import Dirty, mark_dirty
from domain.errors import IllegalState
from domain.inventory.hold_requests import release_movement
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    LocationKind,
    MovementReason,
    Reservation,
    ReservationStatus,
)
from domain.inventory.publishing import levels_changed
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class LetGo:
    """A locked active reservation to release, who lets it go and the key of its ledger row."""

    reservation: Reservation
    actor: str
    key: str


async def release_locked(uow: UnitOfWork, releases: Sequence[LetGo], now: datetime) -> None:
    """Release the reservations, in `uow` (which commits)."""
    if not releases:
        return
    held = [r.reservation for r in releases]
    locked = await uow.inventory.lock_snapshots(sorted({r.sku for r in held}))
    net: dict[tuple[str, uuid.UUID], int] = {}
    for let_go in releases:
        r = let_go.reservation
        if not await uow.inventory.close_reservation(r.id, ReservationStatus.RELEASED, now):
            raise IllegalState(f"reservation {r.id} is no longer active", field="reservationId")
        net[(r.sku, r.location_id)] = net.get((r.sku, r.location_id), 0) + r.quantity
    await uow.inventory.add_movements(
        [release_movement(r.reservation, r.actor, r.key, now) for r in releases]
    )
    deltas = []
    for (sku, location_id), quantity in sorted(net.items(), key=lambda t: (t[0][0], str(t[0][1]))):
        at = locked[sku].location_of(location_id)
        sellable = at is not None and at.location_kind is not LocationKind.CHANNEL_MANAGED
        deltas.append(LevelDelta(sku, location_id, 0, -quantity, sellable))
    changed: dict[str, list[LevelChange]] = {}
    for delta, change in zip(deltas, await uow.inventory.change_levels(deltas), strict=True):
        if change is None:  # the CHECK constraint and the ledger make this unreachable
            raise IllegalState(f"the level of {delta.sku!r} refused the release", field="lines")
        changed.setdefault(delta.sku, []).append(change)
    dirty: list[Dirty] = []
    for sku, changes in changed.items():
        channels = await uow.channels.for_sku(sku)
        await levels_changed(
            uow, locked[sku], changes, MovementReason.RELEASE, channels, now, dirty=dirty
        )
    await mark_dirty(uow, dirty, now)
