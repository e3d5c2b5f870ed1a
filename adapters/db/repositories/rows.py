"""Domain objects as the column values of their rows (one place per table)."""

from __future__ import annotations

from typing import Any

from domain.inventory.model import Movement, Reservation


def reservation_row(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "sku": reservation.sku,
        "location_id": reservation.location_id,
        "quantity": reservation.quantity,
        "status": reservation.status.value,
        "reference": reservation.reference,
        "created_at": reservation.created_at,
        "expires_at": reservation.expires_at,
        "closed_at": reservation.closed_at,
    }


def movement_row(movement: Movement) -> dict[str, Any]:
    return {
        "id": movement.id,
        "sku": movement.sku,
        "location_id": movement.location_id,
        "on_hand_delta": movement.on_hand_delta,
        "reserved_delta": movement.reserved_delta,
        "reason": movement.reason.value,
        "actor": movement.actor,
        "operation_key": movement.operation_key,
        "reference": movement.reference,
        "note": movement.note,
        "detail": movement.detail,
        "reservation_id": movement.reservation_id,
        "created_at": movement.created_at,
    }
