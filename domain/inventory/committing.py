"""Committing reservations, whole or in part: the units leave their location.

A shipment may take only some of the units a reservation holds (2 of 5). The part shipped
becomes a reservation of its own, committed at once; the rest stays held under the original
reservation, which a later shipment commits in turn. Several reservations are committed in
one transaction — all of them or none — so a parcel never leaves half recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InvalidInput, InvalidQuantity, NotFound
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LocationKind,
    Movement,
    MovementReason,
    Reservation,
    ReservationStatus,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.stock import idempotent, load_sku
from domain.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class CommitPart:
    """Commit `quantity` units of a reservation; None: all it holds."""

    reservation_id: uuid.UUID
    quantity: int | None = None


async def commit_parts(
    uows: UnitOfWorkFactory,
    *,
    parts: Sequence[CommitPart],
    key: str,
    actor: str,
    detail: str | None = None,
    clock: Clock = utcnow,
) -> list[Reservation]:
    """Commit each part (on hand and reserved both drop); returns the committed reservations,
    in the order of `parts`. A part of a reservation is split off it and committed.

    `detail` (e.g. the parcel's tracking number) goes on the ledger rows and is part of what
    the key stands for: the same key with another detail is refused, not replayed.
    """
    if not parts:
        raise InvalidInput("commit at least one reservation", field="parts")
    if len({p.reservation_id for p in parts}) != len(parts):
        raise InvalidInput("a reservation is named twice", field="parts")
    for n, part in enumerate(parts):
        if part.quantity is not None and part.quantity <= 0:
            raise InvalidQuantity("quantity must be positive", field=f"parts[{n}].quantity")
    now = clock()
    request = {"parts": [[str(p.reservation_id), p.quantity] for p in parts], "detail": detail}

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            # Claimed first: a replay of a commit that happened answers with its result.
            await uow.operations.claim(claim)
            # Reservation rows are taken in id order, then levels in (SKU, location) order.
            ordered = sorted(enumerate(parts), key=lambda item: str(item[1].reservation_id))
            committed: dict[int, Reservation] = {}
            for n, part in ordered:
                committed[n] = await _commit_one(uow, n, part, now)
            await _apply(uow, list(committed.values()), actor, claim.key, detail, now)
            result = {"reservationIds": [str(committed[n].id) for n in range(len(parts))]}
            await uow.operations.complete(claim.key, result)
            await uow.commit()
            return result

    result, _ = await idempotent(uows, key, "commit_parts", request, perform, actor, now)
    async with uows(readonly=True) as uow:
        found = [
            await uow.inventory.get_reservation(uuid.UUID(i)) for i in result["reservationIds"]
        ]
    return [r for r in found if r is not None]


async def _commit_one(uow: UnitOfWork, n: int, part: CommitPart, now: datetime) -> Reservation:
    field = f"parts[{n}]"
    held = await uow.inventory.get_reservation(part.reservation_id)
    if held is None:
        raise NotFound(f"unknown reservation {part.reservation_id}", field=field)
    if held.status is not ReservationStatus.ACTIVE:
        raise IllegalState(f"reservation is {held.status.value}, not active", field=field)
    quantity = held.quantity if part.quantity is None else part.quantity
    if quantity > held.quantity:
        raise InvalidQuantity(
            f"the reservation holds {held.quantity}, not {quantity}", field=f"{field}.quantity"
        )
    if quantity == held.quantity:
        if not await uow.inventory.close_reservation(held.id, ReservationStatus.COMMITTED, now):
            raise IllegalState("reservation was closed concurrently", field=field)
        # Read again under the row lock just taken: a part split off meanwhile shows here.
        closed = await uow.inventory.get_reservation(held.id)
        if closed is None or closed.quantity != quantity:
            raise IllegalState("reservation changed concurrently", field=field)
        return closed
    split = Reservation(
        id=uuid.uuid4(), sku=held.sku, location_id=held.location_id, quantity=quantity,
        status=ReservationStatus.COMMITTED, reference=held.reference, created_at=now,
        closed_at=now,
    )  # fmt: skip
    if not await uow.inventory.split_reservation(held.id, quantity, split):
        raise IllegalState("reservation changed concurrently", field=field)
    return split


async def _apply(
    uow: UnitOfWork,
    committed: list[Reservation],
    actor: str,
    key: str,
    detail: str | None,
    now: datetime,
) -> None:
    """The ledger rows and the level changes of the committed reservations."""
    await uow.inventory.add_movements([_movement(r, actor, key, detail, now) for r in committed])
    totals: dict[tuple[str, uuid.UUID], int] = {}
    for reservation in committed:
        slot = (reservation.sku, reservation.location_id)
        totals[slot] = totals.get(slot, 0) + reservation.quantity
    for (sku, location_id), quantity in sorted(totals.items(), key=_lock_order):
        snapshot = await load_sku(uow, sku)
        at = snapshot.location_of(location_id)
        change = await uow.inventory.change_level(
            sku, location_id, -quantity, -quantity,
            sellable=at is not None and at.location_kind is not LocationKind.CHANNEL_MANAGED,
        )  # fmt: skip
        if change is None:  # the CHECK constraint and the ledger make this unreachable
            raise IllegalState("the level refused the change", field="parts")
        channels = await uow.channels.for_sku(sku)
        await levels_changed(uow, snapshot, [change], MovementReason.COMMIT, channels, now)


def _lock_order(item: tuple[tuple[str, uuid.UUID], int]) -> tuple[str, str]:
    (sku, location_id), _ = item
    return sku, str(location_id)


def _movement(
    reservation: Reservation, actor: str, key: str, detail: str | None, now: datetime
) -> Movement:
    return Movement(
        id=uuid.uuid4(), sku=reservation.sku, location_id=reservation.location_id,
        on_hand_delta=-reservation.quantity, reserved_delta=-reservation.quantity,
        reason=MovementReason.COMMIT, actor=actor, operation_key=key, created_at=now,
        reference=reservation.reference, detail=detail, reservation_id=reservation.id,
    )  # fmt: skip
