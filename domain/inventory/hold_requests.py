"""What a hold asks for, and what its idempotency key records: defined once.

Stock is held by one writer (`holding.hold_all`), for a batch of many requests or of one.
Whoever builds a request — `reserve`, `reserve_lines`, the reservation desk, a batch of
orders — says here what its key stands for (`KeyClaim`: the kind and the fingerprint of the
request) and gets the record the key keeps (`KeyClaim.record`): the same whichever path held
it, so a later call with the key replays it the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.inventory.idempotency import Operation, fingerprint
from domain.inventory.model import LevelDelta, Movement, MovementReason, Reservation

RESERVE_KIND = "reserve"
LINES_KIND = "reserve_lines"


class LineMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int
    location_id: uuid.UUID | None = None


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


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What a hold's key stands for, and so what it records.

    `refused` is for a lines hold that took some lines only (partial mode): per line asked
    for, in order, why it was not held, or None for a line held. Empty: every line held.
    """

    kind: str
    fingerprint: str
    refused: tuple[str | None, ...] = ()

    @classmethod
    def single(
        cls,
        sku: str,
        quantity: int,
        location_id: uuid.UUID | None,
        reference: str | None,
        expires_in_seconds: int | None,
    ) -> KeyClaim:
        """`reserve`'s key: one reservation."""
        request = reserve_request(sku, quantity, location_id, reference, expires_in_seconds)
        return cls(RESERVE_KIND, fingerprint(RESERVE_KIND, request))

    @classmethod
    def lines(
        cls,
        lines: Sequence[LineRequest],
        mode: LineMode,
        reference: str | None,
        expires_in_seconds: int | None = None,
    ) -> KeyClaim:
        """`reserve_lines`' key: a reservation per line (in partial mode, per line held)."""
        request = lines_request(lines, mode, reference, expires_in_seconds)
        return cls(LINES_KIND, fingerprint(LINES_KIND, request))

    def refusing(self, refused: Sequence[str | None]) -> KeyClaim:
        return replace(self, refused=tuple(refused))

    def result(self, held: Sequence[Reservation]) -> Mapping[str, Any]:
        """What a replay of the key answers with: the reservations held, by id."""
        if self.kind == RESERVE_KIND:
            (reservation,) = held
            return {"reservationId": str(reservation.id)}
        made = iter(held)
        refused = self.refused or (None,) * len(held)
        return {
            "lines": [
                {"reservationId": str(next(made).id)} if why is None else {"error": why}
                for why in refused
            ]
        }

    def record(self, key: str, actor: str, held: Sequence[Reservation], now: datetime) -> Operation:
        """The key's record once its stock is held."""
        return Operation(key, self.kind, self.fingerprint, actor, now, self.result(held))

    def attempt(self, key: str, actor: str, now: datetime) -> Operation:
        """The key's record claimed by a call refused before anything is held: it rolls back
        with the call, and only serves to find the key already taken (a replay)."""
        return Operation(key, self.kind, self.fingerprint, actor, now, None)


def reserve_movement(reservation: Reservation, actor: str, key: str, now: datetime) -> Movement:
    """The ledger row of a new reservation."""
    return movement(reservation, 0, reservation.quantity, MovementReason.RESERVE, actor, key, now)


def release_movement(reservation: Reservation, actor: str, key: str, now: datetime) -> Movement:
    """The ledger row of a reservation let go."""
    return movement(reservation, 0, -reservation.quantity, MovementReason.RELEASE, actor, key, now)


def movement(
    reservation: Reservation,
    on_hand_delta: int,
    reserved_delta: int,
    reason: MovementReason,
    actor: str,
    key: str,
    now: datetime,
) -> Movement:
    """A reservation's ledger row."""
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


def level_deltas(
    reservations: Sequence[Reservation], sellable: Mapping[tuple[str, uuid.UUID], bool]
) -> list[LevelDelta]:
    """What new reservations change: one delta per level, in lock order (SKU, location);
    `sellable` says which levels count in their SKU's sellable total."""
    totals: dict[tuple[str, uuid.UUID], int] = {}
    for reservation in reservations:
        slot = (reservation.sku, reservation.location_id)
        totals[slot] = totals.get(slot, 0) + reservation.quantity
    return [
        LevelDelta(sku, location_id, 0, quantity, sellable.get((sku, location_id), False))
        for (sku, location_id), quantity in sorted(
            totals.items(), key=lambda item: (item[0][0], str(item[0][1]))
        )
    ]
