"""Which level changes ask for backorders to be filled: those that may bring units."""

from __future__ import annotations

import uuid

import pytest

from domain.inventory.arrivals import brought_stock
from domain.inventory.model import LevelChange, MovementReason, StockLevel

LEVEL = StockLevel("SKU-1", uuid.uuid4(), on_hand=5, reserved=0, version=2)


def change(before: int | None, after: int | None) -> LevelChange:
    return LevelChange(LEVEL, sku_available_before=before, sku_available_after=after)


@pytest.mark.parametrize(
    ("reason", "moved", "asks"),
    [
        (MovementReason.RECEIVE, change(0, 5), True),
        (MovementReason.RETURN, change(4, 5), True),
        (MovementReason.COUNT, change(3, 5), True),
        (MovementReason.COUNT, change(6, 5), False),  # counted down
        (MovementReason.ADJUST, change(6, 5), False),
        (MovementReason.CHANNEL_EDIT, change(2, 5), True),
        (MovementReason.TRANSFER, change(5, 5), True),  # the total stays; the destination gains
        (MovementReason.RECEIVE, change(None, None), True),  # stock the hub does not sell itself
        (MovementReason.RELEASE, change(4, 5), False),  # left to the sweep: every cart does it
        (MovementReason.EXPIRE, change(4, 5), False),
        (MovementReason.RESERVE, change(5, 4), False),
        (MovementReason.COMMIT, change(None, None), False),
    ],
)
def test_arrivals_ask_for_a_fill(reason: MovementReason, moved: LevelChange, asks: bool) -> None:
    assert brought_stock([moved], reason) is asks
