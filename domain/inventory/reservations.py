"""Holding stock for orders and carts: reserve, release, commit, expire. Never oversell.

A reservation is one conditional update of a level (`available >= quantity` or nothing),
so concurrent reservations can never take more than there is, on any backend.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import IllegalState, InsufficientStock, InvalidInput, InvalidQuantity, NotFound
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    LocationKind,
    Movement,
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
    StockLevel,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.stock import (
    Clock,
    check_positive,
    idempotent,
    load_location,
    load_sku,
    utcnow,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory

RESERVE_ATTEMPTS = 5
MAX_LINES = 250
MAX_EXPIRY = timedelta(days=30)
EXPIRY_ACTOR = "job:expire_reservations"


@dataclass(frozen=True, slots=True)
class ReservationResult:
    reservation: Reservation
    replayed: bool = False


class LineMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int
    location_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class LineOutcome:
    request: LineRequest
    reservation: Reservation | None
    error: InsufficientStock | None = None


@dataclass(frozen=True, slots=True)
class LinesResult:
    lines: list[LineOutcome]
    replayed: bool = False


def candidate_locations(snapshot: SkuSnapshot, quantity: int) -> list[uuid.UUID]:
    """Where a reservation without a location may come from, in a fixed order: by code."""
    return [
        entry.level.location_id
        for entry in sorted(snapshot.levels, key=lambda e: e.location_code)
        if entry.location_kind is not LocationKind.CHANNEL_MANAGED
        and entry.level.available >= quantity
    ]


def expiry(now: datetime, expires_in_seconds: int | None) -> datetime | None:
    if expires_in_seconds is None:
        return None
    if expires_in_seconds <= 0 or timedelta(seconds=expires_in_seconds) > MAX_EXPIRY:
        raise InvalidInput(
            f"expiry must be between 1 second and {MAX_EXPIRY.days} days",
            field="expiresInSeconds",
        )
    return now + timedelta(seconds=expires_in_seconds)


def reserve_movement(reservation: Reservation, actor: str, key: str, now: datetime) -> Movement:
    """The ledger row of a new reservation."""
    return _movement(reservation, 0, reservation.quantity, MovementReason.RESERVE, actor, key, now)


def _movement(
    reservation: Reservation,
    on_hand_delta: int,
    reserved_delta: int,
    reason: MovementReason,
    actor: str,
    key: str,
    now: datetime,
) -> Movement:
    return Movement(
        id=uuid.uuid4(),
        sku=reservation.sku,
        location_id=reservation.location_id,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        reason=reason,
        actor=actor,
        operation_key=key,
        created_at=now,
        reference=reservation.reference,
        reservation_id=reservation.id,
    )


async def _stored_reservation(uows: UnitOfWorkFactory, result: Mapping[str, Any]) -> Reservation:
    async with uows(readonly=True) as uow:
        reservation = await uow.inventory.get_reservation(uuid.UUID(str(result["reservationId"])))
    if reservation is None:
        raise NotFound("the reservation of this operation no longer exists")
    return reservation


RESERVE_KIND = "reserve"


def reserve_request(
    sku: str,
    quantity: int,
    location_id: uuid.UUID | None,
    reference: str | None,
    expires_in_seconds: int | None,
) -> dict[str, Any]:
    """What a reservation's key stands for (its fingerprint is taken of this)."""
    return {
        "sku": sku,
        "quantity": quantity,
        "locationId": str(location_id) if location_id else None,
        "reference": reference,
        "expiresInSeconds": expires_in_seconds,
    }


async def reserve(
    uows: UnitOfWorkFactory,
    *,
    sku: str,
    quantity: int,
    key: str,
    actor: str,
    location_id: uuid.UUID | None = None,
    reference: str | None = None,
    expires_in_seconds: int | None = None,
    clock: Clock = utcnow,
) -> ReservationResult:
    """Hold `quantity` of `sku` at a location (the first that has it, when none is given)."""
    check_positive(quantity)
    now = clock()
    expires_at = expiry(now, expires_in_seconds)
    request = reserve_request(sku, quantity, location_id, reference, expires_in_seconds)

    made: list[Reservation] = []

    async def perform(claim: Operation) -> Mapping[str, Any]:
        for _ in range(RESERVE_ATTEMPTS):
            async with uows() as uow:
                reservation_id = uuid.uuid4()
                result = {"reservationId": str(reservation_id)}
                operation = Operation(claim.key, claim.kind, claim.fingerprint, actor, now, result)
                snapshot = await load_sku(uow, sku)
                if location_id is not None:
                    if snapshot.level_at(location_id) is None:
                        # Not there when read, but it may be by the time the update runs.
                        location = await load_location(uow, location_id, "locationId")
                        empty = StockLevel(sku, location_id, 0, 0, 0)
                        snapshot = snapshot.with_level(empty, location)
                    chosen = location_id
                else:
                    candidates = candidate_locations(snapshot, quantity)
                    if not candidates:
                        # The key is claimed before refusing: a replay of a reservation that
                        # succeeded answers with it, even now that the stock is gone.
                        await uow.operations.claim(operation)
                        raise InsufficientStock(
                            f"no location has {quantity} of {sku!r} available", field="quantity"
                        )
                    chosen = candidates[0]
                channels = await uow.channels.for_sku(sku)
                reservation = Reservation(
                    id=reservation_id,
                    sku=sku,
                    location_id=chosen,
                    quantity=quantity,
                    status=ReservationStatus.ACTIVE,
                    reference=reference,
                    created_at=now,
                    expires_at=expires_at,
                )
                at = snapshot.location_of(chosen)
                assert at is not None
                # One atomic step claims the key, takes the row lock, records the reservation
                # and its ledger row; only the commit follows, so a hot row is held briefly.
                change = await uow.inventory.hold(
                    reservation,
                    _movement(
                        reservation, 0, quantity, MovementReason.RESERVE, actor, claim.key, now
                    ),
                    sellable=at.location_kind is not LocationKind.CHANNEL_MANAGED,
                    claim=operation,
                )
                if change is None:
                    if location_id is not None:
                        current = snapshot.level_at(location_id)
                        raise InsufficientStock(
                            f"only {current.available if current else 0} of {sku!r} available "
                            "at that location",
                            field="quantity",
                        )
                    continue  # another reservation took it first: look again
                await levels_changed(uow, snapshot, [change], MovementReason.RESERVE, channels, now)
                await uow.commit()
                made.append(reservation)
                return result
        raise InsufficientStock(
            f"no location has {quantity} of {sku!r} available", field="quantity"
        )

    result, replayed = await idempotent(uows, key, RESERVE_KIND, request, perform, actor, now)
    if replayed:
        return ReservationResult(await _stored_reservation(uows, result), replayed=True)
    return ReservationResult(made[-1])


LINES_KIND = "reserve_lines"


def lines_request(
    lines: Sequence[LineRequest],
    mode: LineMode,
    reference: str | None,
    expires_in_seconds: int | None = None,
) -> dict[str, Any]:
    """What a multi-line reservation's key stands for (its fingerprint is taken of this)."""
    return {
        "lines": [[ln.sku, ln.quantity, str(ln.location_id or "")] for ln in lines],
        "mode": mode.value,
        "reference": reference,
        "expiresInSeconds": expires_in_seconds,
    }


async def reserve_lines(
    uows: UnitOfWorkFactory,
    *,
    lines: Sequence[LineRequest],
    mode: LineMode,
    key: str,
    actor: str,
    reference: str | None = None,
    expires_in_seconds: int | None = None,
    clock: Clock = utcnow,
) -> LinesResult:
    """Reserve several lines in one transaction: all of them, or as many as possible.

    The levels of every SKU involved are locked first, in one fixed order, so concurrent
    multi-line reservations queue instead of deadlocking.
    """
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"an order has 1 to {MAX_LINES} lines", field="lines")
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            raise InvalidQuantity("quantity must be positive", field=f"lines[{index}].quantity")
    now = clock()
    expires_at = expiry(now, expires_in_seconds)
    request = lines_request(lines, mode, reference, expires_in_seconds)

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            snapshots = await uow.inventory.lock_snapshots(sorted({ln.sku for ln in lines}))
            for index, line in enumerate(lines):
                if line.sku not in snapshots:
                    raise NotFound(f"unknown SKU {line.sku!r}", field=f"lines[{index}].sku")
            await uow.operations.claim(claim)
            available = {
                (sku, e.level.location_id): e.level.available
                for sku, snap in snapshots.items()
                for e in snap.levels
            }
            outcomes: list[dict[str, Any]] = []
            reservations: list[Reservation] = []
            for index, line in enumerate(lines):
                chosen = choose_location(snapshots[line.sku], line, available)
                if chosen is None:
                    if mode is LineMode.ALL_OR_NOTHING:
                        raise InsufficientStock(
                            f"not enough {line.sku!r} for line {index}", field=f"lines[{index}]"
                        )
                    outcomes.append({"error": f"not enough {line.sku!r} available"})
                    continue
                available[(line.sku, chosen)] -= line.quantity
                reservation = Reservation(
                    id=uuid.uuid4(),
                    sku=line.sku,
                    location_id=chosen,
                    quantity=line.quantity,
                    status=ReservationStatus.ACTIVE,
                    reference=reference,
                    created_at=now,
                    expires_at=expires_at,
                )
                reservations.append(reservation)
                outcomes.append({"reservationId": str(reservation.id)})
            changed = await _hold(uow, snapshots, reservations, actor, claim.key, now)
            result = {"lines": outcomes}
            await uow.operations.complete(claim.key, result)
            for sku, levels in changed.items():
                channels = await uow.channels.for_sku(sku)
                await levels_changed(
                    uow, snapshots[sku], levels, MovementReason.RESERVE, channels, now
                )
            await uow.commit()
            return result

    result, replayed = await idempotent(uows, key, LINES_KIND, request, perform, actor, now)
    async with uows(readonly=True) as uow:
        outcomes: list[LineOutcome] = []
        for line, stored in zip(lines, result["lines"], strict=True):
            if "reservationId" in stored:
                found = await uow.inventory.get_reservation(uuid.UUID(stored["reservationId"]))
                outcomes.append(LineOutcome(line, found))
            else:
                outcomes.append(LineOutcome(line, None, InsufficientStock(stored["error"])))
    return LinesResult(outcomes, replayed)


def choose_location(
    snapshot: SkuSnapshot, line: LineRequest, available: dict[tuple[str, uuid.UUID], int]
) -> uuid.UUID | None:
    if line.location_id is not None:
        ok = available.get((line.sku, line.location_id), 0) >= line.quantity
        return line.location_id if ok else None
    for entry in sorted(snapshot.levels, key=lambda e: e.location_code):
        location_id = entry.level.location_id
        if entry.location_kind is LocationKind.CHANNEL_MANAGED:
            continue
        if available.get((line.sku, location_id), 0) >= line.quantity:
            return location_id
    return None


async def _hold(
    uow: UnitOfWork,
    snapshots: Mapping[str, SkuSnapshot],
    reservations: list[Reservation],
    actor: str,
    key: str,
    now: datetime,
) -> dict[str, list[LevelChange]]:
    """Insert reservations and apply them level by level, in lock order."""
    await uow.inventory.add_reservations(reservations)
    await uow.inventory.add_movements([reserve_movement(r, actor, key, now) for r in reservations])
    return await hold_levels(uow, snapshots, reservations)


async def hold_levels(
    uow: UnitOfWork, snapshots: Mapping[str, SkuSnapshot], reservations: Sequence[Reservation]
) -> dict[str, list[LevelChange]]:
    """Apply new reservations to their levels, one change per level, in lock order; raises
    InsufficientStock (the caller rolls back) when a level cannot take them."""
    totals: dict[tuple[str, uuid.UUID], int] = {}
    for reservation in reservations:
        slot = (reservation.sku, reservation.location_id)
        totals[slot] = totals.get(slot, 0) + reservation.quantity
    deltas = []
    for (sku, location_id), quantity in sorted(
        totals.items(), key=lambda t: (t[0][0], str(t[0][1]))
    ):
        at = snapshots[sku].location_of(location_id)
        sellable = at is not None and at.location_kind is not LocationKind.CHANNEL_MANAGED
        deltas.append(LevelDelta(sku, location_id, 0, quantity, sellable))
    changed: dict[str, list[LevelChange]] = {}
    for delta, change in zip(deltas, await uow.inventory.change_levels(deltas), strict=True):
        if change is None:
            raise InsufficientStock(f"not enough {delta.sku!r} available", field="lines")
        changed.setdefault(delta.sku, []).append(change)
    return changed


async def _close(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    status: ReservationStatus,
    key: str,
    actor: str,
    now: datetime,
) -> ReservationResult:
    """Release (units become available again) or commit (units leave) an active reservation."""
    committing = status is ReservationStatus.COMMITTED
    reason = {
        ReservationStatus.COMMITTED: MovementReason.COMMIT,
        ReservationStatus.RELEASED: MovementReason.RELEASE,
        ReservationStatus.EXPIRED: MovementReason.EXPIRE,
    }[status]
    request = {"reservationId": str(reservation_id), "status": status.value}

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            result = {"reservationId": str(reservation_id)}
            # Claimed first: replaying a key whose release/commit succeeded answers with that
            # result instead of "reservation is not active".
            await uow.operations.claim(
                Operation(claim.key, claim.kind, claim.fingerprint, actor, now, result)
            )
            reservation = await uow.inventory.get_reservation(reservation_id)
            if reservation is None:
                raise NotFound(f"unknown reservation {reservation_id}", field="reservationId")
            if reservation.status is not ReservationStatus.ACTIVE:
                raise IllegalState(
                    f"reservation is {reservation.status.value}, not active",
                    field="reservationId",
                )
            snapshot = await load_sku(uow, reservation.sku)
            channels = await uow.channels.for_sku(reservation.sku)
            if not await uow.inventory.close_reservation(reservation_id, status, now):
                raise IllegalState("reservation was closed concurrently", field="reservationId")
            quantity = reservation.quantity
            on_hand_delta = -quantity if committing else 0
            await uow.inventory.add_movements(
                [_movement(reservation, on_hand_delta, -quantity, reason, actor, claim.key, now)]
            )
            at = snapshot.location_of(reservation.location_id)
            change = await uow.inventory.change_level(
                reservation.sku,
                reservation.location_id,
                on_hand_delta,
                -quantity,
                sellable=at is not None and at.location_kind is not LocationKind.CHANNEL_MANAGED,
            )
            if change is None:  # the CHECK constraint and the ledger make this unreachable
                raise IllegalState("the level refused the change", field="reservationId")
            await levels_changed(uow, snapshot, [change], reason, channels, now)
            await uow.commit()
            return result

    kind = "commit" if committing else "release"
    result, replayed = await idempotent(uows, key, kind, request, perform, actor, now)
    return ReservationResult(await _stored_reservation(uows, result), replayed)


async def release(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> ReservationResult:
    """The order or cart no longer needs the units: they become available again."""
    return await _close(
        uows,
        reservation_id=reservation_id,
        status=ReservationStatus.RELEASED,
        key=key,
        actor=actor,
        now=clock(),
    )


async def commit(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> ReservationResult:
    """The units shipped: on hand and reserved both drop."""
    return await _close(
        uows,
        reservation_id=reservation_id,
        status=ReservationStatus.COMMITTED,
        key=key,
        actor=actor,
        now=clock(),
    )


async def expire_reservations(
    uows: UnitOfWorkFactory, *, clock: Clock = utcnow, batch: int = 500
) -> int:
    """Release every active reservation past its expiry; returns how many were released."""
    now = clock()
    async with uows(readonly=True) as uow:
        expired = await uow.inventory.expired_reservations(now, batch)
    released = 0
    for reservation in expired:
        try:
            await _close(
                uows,
                reservation_id=reservation.id,
                status=ReservationStatus.EXPIRED,
                key=f"expire:{reservation.id}",
                actor=EXPIRY_ACTOR,
                now=now,
            )
            released += 1
        except IllegalState:
            continue  # released or committed meanwhile: nothing to expire
    return released
