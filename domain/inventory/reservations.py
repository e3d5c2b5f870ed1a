"""Holding stock for orders and carts: reserve, release, commit, expire. Never oversell.

A reservation is one conditional change of a level (`available >= quantity` or nothing), made
by the one writer of holds (`holding.hold_all`): `reserve` and `reserve_lines` are a batch of
one, as the reservation desk's batches are a batch of many, so concurrent reservations can
never take more than there is, on any backend. Release, commit and expiry are
one conditional update of a level each.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InsufficientStock, InvalidInput, InvalidQuantity, NotFound
from domain.inventory.hold_requests import (
    LINES_KIND,
    KeyClaim,
    LineMode,
    LineRequest,
    movement,
)
from domain.inventory.holding import HoldRequest, hold_all
from domain.inventory.idempotency import (
    Operation,
    OperationAlreadyRecorded,
    check_key,
    run_once,
)
from domain.inventory.model import (
    LocationKind,
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
)
from domain.inventory.publishing import levels_changed
from domain.inventory.stock import (
    check_positive,
    idempotent,
    load_location,
    load_sku,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_LINES = 250
MAX_EXPIRY = timedelta(days=30)
EXPIRY_ACTOR = "job:expire_reservations"


@dataclass(frozen=True, slots=True)
class ReservationResult:
    reservation: Reservation
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class LineOutcome:
    request: LineRequest
    reservation: Reservation | None
    error: InsufficientStock | None = None


@dataclass(frozen=True, slots=True)
class LinesResult:
    lines: list[LineOutcome]
    replayed: bool = False


def expiry(now: datetime, expires_in_seconds: int | None) -> datetime | None:
    if expires_in_seconds is None:
        return None
    if expires_in_seconds <= 0 or timedelta(seconds=expires_in_seconds) > MAX_EXPIRY:
        raise InvalidInput(
            f"expiry must be between 1 second and {MAX_EXPIRY.days} days",
            field="expiresInSeconds",
        )
    return now + timedelta(seconds=expires_in_seconds)


async def _stored_reservation(uows: UnitOfWorkFactory, result: Mapping[str, Any]) -> Reservation:
    async with uows(readonly=True) as uow:
        reservation = await uow.inventory.get_reservation(uuid.UUID(str(result["reservationId"])))
    if reservation is None:
        raise NotFound("the reservation of this operation no longer exists")
    return reservation


@dataclass(frozen=True, slots=True, eq=False)  # each call is its own, even with one input
class HoldCall:
    """One call to hold stock, its input checked once: what `reserve` and `reserve_lines`
    hold alone, and what the reservation desk holds in a batch (or hands to `hold_single` and
    `hold_lines` when it cannot)."""

    lines: tuple[LineRequest, ...]
    mode: LineMode
    key: str
    actor: str
    reference: str | None
    expires_at: datetime | None
    claim: KeyClaim
    now: datetime

    @classmethod
    def single(
        cls,
        *,
        sku: str,
        quantity: int,
        key: str,
        actor: str,
        location_id: uuid.UUID | None,
        reference: str | None,
        expires_in_seconds: int | None,
        now: datetime,
    ) -> HoldCall:
        """`reserve`'s call: `quantity` of `sku`, at `location_id` or the first that has it."""
        check_positive(quantity)
        return cls(
            (LineRequest(sku, quantity, location_id),), LineMode.ALL_OR_NOTHING,
            check_key(key), actor, reference, expiry(now, expires_in_seconds),
            KeyClaim.single(sku, quantity, location_id, reference, expires_in_seconds), now,
        )  # fmt: skip

    @classmethod
    def of_lines(
        cls,
        *,
        lines: Sequence[LineRequest],
        mode: LineMode,
        key: str,
        actor: str,
        reference: str | None,
        expires_in_seconds: int | None,
        now: datetime,
    ) -> HoldCall:
        """`reserve_lines`' call: every line, or as many as there is stock for."""
        check_lines(lines)
        return cls(
            tuple(lines), mode, check_key(key), actor, reference,
            expiry(now, expires_in_seconds),
            KeyClaim.lines(lines, mode, reference, expires_in_seconds), now,
        )  # fmt: skip

    def refused(self, index: int, snapshot: SkuSnapshot) -> InsufficientStock:
        """Why the call is refused when its line `index` cannot be held."""
        line = self.lines[index]
        if self.claim.kind == LINES_KIND:
            return InsufficientStock(
                f"not enough {line.sku!r} for line {index}", field=f"lines[{index}]"
            )
        if line.location_id is None:
            return InsufficientStock(
                f"no location has {line.quantity} of {line.sku!r} available", field="quantity"
            )
        level = snapshot.level_at(line.location_id)
        return InsufficientStock(
            f"only {level.available if level else 0} of {line.sku!r} available at that location",
            field="quantity",
        )

    def unknown(self, index: int) -> NotFound:
        field = f"lines[{index}].sku" if self.claim.kind == LINES_KIND else "sku"
        return NotFound(f"unknown SKU {self.lines[index].sku!r}", field=field)


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
    call = HoldCall.single(
        sku=sku, quantity=quantity, key=key, actor=actor, location_id=location_id,
        reference=reference, expires_in_seconds=expires_in_seconds, now=clock(),
    )  # fmt: skip
    return await hold_single(uows, call)


async def hold_single(uows: UnitOfWorkFactory, call: HoldCall) -> ReservationResult:
    """`reserve`, its call checked."""
    made: list[Reservation] = []
    result, replayed = await _once(uows, call, lambda: _hold_alone(uows, call, made))
    if replayed:
        return ReservationResult(await _stored_reservation(uows, result), replayed=True)
    return ReservationResult(made[-1])


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
    """Reserve several lines in one transaction: all of them, or as many as possible."""
    call = HoldCall.of_lines(
        lines=lines, mode=mode, key=key, actor=actor, reference=reference,
        expires_in_seconds=expires_in_seconds, now=clock(),
    )  # fmt: skip
    return await hold_lines(uows, call)


async def hold_lines(uows: UnitOfWorkFactory, call: HoldCall) -> LinesResult:
    """`reserve_lines`, its call checked."""
    held: list[Reservation] = []
    result, replayed = await _once(uows, call, lambda: _hold_alone(uows, call, held))
    if not replayed:  # as just written: no need to read them back
        made = {str(r.id): r for r in held}
        return LinesResult(
            [
                LineOutcome(line, made[stored["reservationId"]])
                if "reservationId" in stored
                else LineOutcome(line, None, InsufficientStock(stored["error"]))
                for line, stored in zip(call.lines, result["lines"], strict=True)
            ]
        )
    async with uows(readonly=True) as uow:
        outcomes: list[LineOutcome] = []
        for line, stored in zip(call.lines, result["lines"], strict=True):
            if "reservationId" in stored:
                found = await uow.inventory.get_reservation(uuid.UUID(stored["reservationId"]))
                outcomes.append(LineOutcome(line, found))
            else:
                outcomes.append(LineOutcome(line, None, InsufficientStock(stored["error"])))
    return LinesResult(outcomes, replayed)


async def _once(
    uows: UnitOfWorkFactory,
    call: HoldCall,
    perform: Callable[[], Awaitable[Mapping[str, Any]]],
) -> tuple[Mapping[str, Any], bool]:
    """`perform` once per key (its transaction claims the key): a later call with the key
    replays what it recorded. The call's key and fingerprint are taken already."""

    async def stored() -> Operation | None:
        async with uows(readonly=True) as uow:
            return await uow.operations.get(call.key)

    outcome = await run_once(perform, stored, call.claim.fingerprint)
    return outcome.result, outcome.replayed


async def _hold_alone(
    uows: UnitOfWorkFactory, call: HoldCall, made: list[Reservation]
) -> Mapping[str, Any]:
    """One call's lines held as a batch of one, in its own transaction, each line placed
    where the lines before it left enough; the reservations made are added to `made`, and
    what the key records is returned.

    A call of one line reads its SKU's levels and holds with one conditional change of the
    level it chose, which takes that level's lock only until the commit. When what it read
    refuses it, or another hold took the units first (the change refuses), it reads again
    under the levels' lock and decides on that: a call is only ever refused on levels read
    under their lock. A call of several lines locks its SKUs' levels first, in the one fixed
    order, so calls holding overlapping lines queue instead of deadlocking.

    All or nothing: a line that cannot be placed refuses the call, after the key is claimed,
    so that a replay of a call that succeeded answers with it even now the stock is gone.
    Partial: the lines placed are held, the key records why the others were not."""
    locking = len(call.lines) > 1
    skus = sorted({line.sku for line in call.lines}) if locking else [call.lines[0].sku]
    while True:
        async with uows() as uow:
            read = uow.inventory.lock_snapshots if locking else uow.inventory.snapshots
            levels = await read(skus)
            try:
                request = await _place(uow, call, levels)
                held = await hold_all(uow, [request], levels, now=call.now)
            except InsufficientStock:
                if locking:
                    raise
                locking = True  # decide on the levels as they are, under their lock
                continue
            if call.key not in held:
                raise OperationAlreadyRecorded(call.key)
            await uow.commit()
            made.extend(held[call.key])
            return request.claim.result(held[call.key])


async def _place(uow: UnitOfWork, call: HoldCall, levels: Mapping[str, SkuSnapshot]) -> HoldRequest:
    """The call's hold request: each line at the location it is held from."""
    for index, line in enumerate(call.lines):
        if line.sku not in levels:
            raise call.unknown(index)
        if line.location_id is not None and levels[line.sku].level_at(line.location_id) is None:
            # No level there: nothing to hold, if the location exists at all.
            await load_location(uow, line.location_id, "locationId")
    available = {
        (sku, entry.level.location_id): entry.level.available
        for sku, snapshot in levels.items()
        for entry in snapshot.levels
    }
    placed: list[LineRequest] = []
    refused: list[str | None] = []
    for index, line in enumerate(call.lines):
        chosen = choose_location(levels[line.sku], line, available)
        if chosen is None:
            if call.mode is LineMode.ALL_OR_NOTHING:
                await uow.operations.claim(call.claim.attempt(call.key, call.actor, call.now))
                raise call.refused(index, levels[line.sku])
            refused.append(f"not enough {line.sku!r} available")
            continue
        available[(line.sku, chosen)] -= line.quantity
        # A line naming its location is held there as asked: the same request.
        placed.append(
            line if chosen is line.location_id else LineRequest(line.sku, line.quantity, chosen)
        )
        refused.append(None)
    claim = call.claim.refusing(refused) if len(placed) < len(refused) else call.claim
    return HoldRequest(call.key, call.actor, call.reference, tuple(placed), claim, call.expires_at)


def check_lines(lines: Sequence[LineRequest]) -> None:
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"an order has 1 to {MAX_LINES} lines", field="lines")
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            raise InvalidQuantity("quantity must be positive", field=f"lines[{index}].quantity")


def choose_location(
    snapshot: SkuSnapshot, line: LineRequest, available: dict[tuple[str, uuid.UUID], int]
) -> uuid.UUID | None:
    """Where the line is held from: its own location if it names one, else the first by code
    (never a channel-managed one) with enough left; None when there is none."""
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


async def _close(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    status: ReservationStatus,
    key: str,
    actor: str,
    now: datetime,
    held_by: str | None = None,
) -> ReservationResult:
    """Release (units become available again) or commit (units leave) an active reservation;
    with `held_by`, only while that owner holds it (a cart's hold may be an order's now)."""
    request = {"reservationId": str(reservation_id), "status": status.value}

    async def perform(claim: Operation) -> Mapping[str, Any]:
        async with uows() as uow:
            result = {"reservationId": str(reservation_id)}
            # Claimed first: replaying a key whose release/commit succeeded answers with that
            # result instead of "reservation is not active".
            await uow.operations.claim(
                Operation(claim.key, claim.kind, claim.fingerprint, actor, now, result)
            )
            reservation = await _active(uow, reservation_id, held_by)
            await _close_held(uow, reservation, status, actor, claim.key, now)
            await uow.commit()
            return result

    kind = "commit" if status is ReservationStatus.COMMITTED else "release"
    result, replayed = await idempotent(uows, key, kind, request, perform, actor, now)
    return ReservationResult(await _stored_reservation(uows, result), replayed)


async def _active(uow: UnitOfWork, reservation_id: uuid.UUID, held_by: str | None) -> Reservation:
    """The reservation, refused unless it is active (and, given `held_by`, that owner's)."""
    reservation = await uow.inventory.get_reservation(reservation_id)
    if reservation is None:
        raise NotFound(f"unknown reservation {reservation_id}", field="reservationId")
    if reservation.status is not ReservationStatus.ACTIVE:
        raise IllegalState(
            f"reservation is {reservation.status.value}, not active", field="reservationId"
        )
    if held_by is not None and reservation.reference != held_by:
        raise IllegalState(
            f"reservation is held by {reservation.reference}, not {held_by}",
            field="reservationId",
        )
    return reservation


async def take_over(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    held_by: str,
    quantity: int,
    reference: str,
    key: str,
    actor: str,
    clock: Clock = utcnow,
    loses: Callable[[UnitOfWork], Awaitable[None]] | None = None,
) -> ReservationResult:
    """`quantity` of an active reservation's units held for `reference` instead of `held_by`,
    in one transaction: the old hold released, the new one made at its location. No moment
    lets the units go to anyone else, and a refusal (no longer held by `held_by`) changes
    nothing. Once per key: a concurrent run with the key replays the first's reservation.

    `loses` records, in that transaction, what the old holder loses (its order's line): no
    moment shows the holder holding units it lost. It runs first (an order's lock comes
    before its levels'); raising refuses the take-over."""
    read = await _peek(uows, reservation_id)
    call = HoldCall.single(
        sku=read.sku, quantity=quantity, key=key, actor=actor, location_id=read.location_id,
        reference=reference, expires_in_seconds=None, now=clock(),
    )  # fmt: skip
    made: list[Reservation] = []

    async def perform() -> Mapping[str, Any]:
        async with uows() as uow:
            if loses is not None:
                await loses(uow)
            await uow.inventory.lock_snapshots([read.sku])  # decide on settled rows
            held = await _active(uow, reservation_id, held_by)
            if held.quantity < quantity:
                raise IllegalState(
                    f"the reservation holds {held.quantity}, not {quantity}", field="quantity"
                )
            await _close_held(uow, held, ReservationStatus.RELEASED, actor, key, call.now)
            levels = await uow.inventory.lock_snapshots([read.sku])
            request = await _place(uow, call, levels)
            result = await hold_all(uow, [request], levels, now=call.now)
            if key not in result:
                raise OperationAlreadyRecorded(key)
            await uow.commit()
        made.extend(result[key])
        return request.claim.result(result[key])

    result, replayed = await _once(uows, call, perform)
    if replayed:
        return ReservationResult(await _stored_reservation(uows, result), replayed=True)
    return ReservationResult(made[-1])


async def _peek(uows: UnitOfWorkFactory, reservation_id: uuid.UUID) -> Reservation:
    async with uows(readonly=True) as uow:
        found = await uow.inventory.get_reservation(reservation_id)
    if found is None:
        raise NotFound(f"unknown reservation {reservation_id}", field="reservationId")
    return found


async def _close_held(
    uow: UnitOfWork,
    reservation: Reservation,
    status: ReservationStatus,
    actor: str,
    key: str,
    now: datetime,
) -> None:
    """Close the reservation as read (its ledger row, its level's change); refused when it
    was closed or changed hands since it was read."""
    committing = status is ReservationStatus.COMMITTED
    reason = {
        ReservationStatus.COMMITTED: MovementReason.COMMIT,
        ReservationStatus.RELEASED: MovementReason.RELEASE,
        ReservationStatus.EXPIRED: MovementReason.EXPIRE,
    }[status]
    snapshot = await load_sku(uow, reservation.sku)
    channels = await uow.channels.for_sku(reservation.sku)
    # As read: a hand-over or an extension committed since then wins.
    if not await uow.inventory.close_reservation(reservation.id, status, now, read=reservation):
        raise IllegalState(
            "reservation was closed or changed hands concurrently", field="reservationId"
        )
    quantity = reservation.quantity
    on_hand_delta = -quantity if committing else 0
    await uow.inventory.add_movements(
        [movement(reservation, on_hand_delta, -quantity, reason, actor, key, now)]
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


async def release(
    uows: UnitOfWorkFactory,
    *,
    reservation_id: uuid.UUID,
    key: str,
    actor: str,
    clock: Clock = utcnow,
    held_by: str | None = None,
) -> ReservationResult:
    """The order or cart no longer needs the units: they become available again. With
    `held_by`, only while that owner (a reference such as `cart:<id>`) holds them."""
    return await _close(
        uows,
        reservation_id=reservation_id,
        status=ReservationStatus.RELEASED,
        key=key,
        actor=actor,
        now=clock(),
        held_by=held_by,
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
