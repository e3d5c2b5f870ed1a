"""What a change of on hand stands for: its entry, its key's claim, its ledger row.

Every receipt, return, adjustment, channel edit and count is a `StockEntry`, whether one call
makes it (`stock`) or a batch of many (`stock_batches`), and is fingerprinted and recorded the
same way, so a key taken on one path replays on the other."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import InvalidQuantity
from domain.inventory.idempotency import Operation, check_key, fingerprint
from domain.inventory.model import Movement, MovementReason, SkuSnapshot
from domain.limits import MAX_UNITS

KINDS = {
    MovementReason.RECEIVE: "receive",
    MovementReason.RETURN: "return",
    MovementReason.ADJUST: "adjust",
    MovementReason.CHANNEL_EDIT: "channel_edit",
    MovementReason.COUNT: "count",
}


@dataclass(frozen=True, slots=True)
class StockEntry:
    """One change of on hand under its own key: a count (`COUNT`: on hand becomes `quantity`,
    if it still is `expected_on_hand` when given) or a change by `quantity` (any other
    reason of `KINDS`: signed for an adjustment or a channel edit)."""

    reason: MovementReason
    sku: str
    location_id: uuid.UUID
    quantity: int
    key: str
    note: str | None = None
    detail: str | None = None  # a return's or channel edit's story, an adjustment's reason
    expected_on_hand: int | None = None  # counts only

    @property
    def counted(self) -> bool:
        return self.reason is MovementReason.COUNT

    @property
    def field(self) -> str:
        """The input a refusal of this entry names."""
        if self.counted:
            return "onHand"
        return "delta" if self.reason is MovementReason.ADJUST else "quantity"


def entry_claim(entry: StockEntry, actor: str, now: datetime) -> Operation:
    """The entry's input checked (a typed error if bad) and the claim of its key."""
    kind = KINDS.get(entry.reason)
    if kind is None:
        raise ValueError(f"on hand does not change by {entry.reason}")
    if entry.reason in (MovementReason.RECEIVE, MovementReason.RETURN):
        check_positive(entry.quantity)
    elif entry.counted and entry.quantity < 0:
        raise InvalidQuantity("a count cannot be negative", field="onHand")
    if entry.counted:
        request = count_request(entry.sku, entry.location_id, entry.quantity,
                                entry.expected_on_hand)  # fmt: skip
    else:
        request = change_request(entry.sku, entry.location_id, entry.quantity, entry.detail)
    key = check_key(entry.key)
    return Operation(key, kind, fingerprint(kind, request), actor, now)


def change_request(
    sku: str, location_id: uuid.UUID, delta: int, detail: str | None
) -> dict[str, Any]:
    """What a receipt, return, adjustment or channel edit is fingerprinted by."""
    return {"sku": sku, "locationId": str(location_id), "delta": delta, "detail": detail}


def count_request(
    sku: str, location_id: uuid.UUID, on_hand: int, expected_on_hand: int | None
) -> dict[str, Any]:
    """What a count is fingerprinted by."""
    return {
        "sku": sku,
        "locationId": str(location_id),
        "onHand": on_hand,
        "expectedOnHand": expected_on_hand,
    }


def entry_movement(entry: StockEntry, before: int, actor: str, key: str, now: datetime) -> Movement:
    """The entry's ledger row; `before`: on hand before it (a count records the difference
    it made, and both figures)."""
    if entry.counted:
        return Movement(
            id=uuid.uuid4(), sku=entry.sku, location_id=entry.location_id,
            on_hand_delta=entry.quantity - before, reserved_delta=0, reason=entry.reason,
            actor=actor, operation_key=key, created_at=now,
            detail=f"counted {entry.quantity}, was {before}",
        )  # fmt: skip
    return Movement(
        id=uuid.uuid4(), sku=entry.sku, location_id=entry.location_id,
        on_hand_delta=entry.quantity, reserved_delta=0, reason=entry.reason, actor=actor,
        operation_key=key, created_at=now, note=entry.note, detail=entry.detail,
    )  # fmt: skip


def check_positive(quantity: int, field: str = "quantity") -> None:
    if quantity <= 0:
        raise InvalidQuantity("quantity must be a positive whole number", field=field)


def check_room(
    snapshot: SkuSnapshot, location_id: uuid.UUID, delta: int, field: str, *, sellable: bool
) -> None:
    """A level's on hand, and the SKU's sellable total, stay within `MAX_UNITS` (each input
    may fit while their sum does not). Read from the snapshot: a race between two large
    receives can still meet the column's own limit."""
    if delta <= 0:
        return
    level = snapshot.level_at(location_id)
    on_hand = level.on_hand if level is not None else 0
    total = snapshot.sellable_available if sellable else 0
    if on_hand + delta > MAX_UNITS or total + delta > MAX_UNITS:
        raise InvalidQuantity(
            f"{snapshot.item.sku} would hold more than {MAX_UNITS} units", field=field
        )
