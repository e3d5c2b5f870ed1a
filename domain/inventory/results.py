"""How operation results are stored for idempotent replays, and read back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.inventory.model import StockLevel


@dataclass(frozen=True, slots=True)
class StockResult:
    """The levels an operation left behind (on a replay: as the first call left them)."""

    levels: list[StockLevel]
    replayed: bool = False


def encode_levels(levels: Sequence[StockLevel]) -> dict[str, Any]:
    return {
        "levels": [
            {
                "sku": lv.sku,
                "locationId": str(lv.location_id),
                "onHand": lv.on_hand,
                "reserved": lv.reserved,
                "version": lv.version,
            }
            for lv in levels
        ]
    }


def decode_levels(result: Mapping[str, Any]) -> list[StockLevel]:
    return [
        StockLevel(
            sku=str(lv["sku"]),
            location_id=uuid.UUID(str(lv["locationId"])),
            on_hand=int(lv["onHand"]),
            reserved=int(lv["reserved"]),
            version=int(lv["version"]),
        )
        for lv in result.get("levels", [])
    ]
