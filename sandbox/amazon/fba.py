"""What Amazon's fulfilment centres hold for the seller (FBA), as the FBA Inventory API shows it.

Each SKU's units are fulfillable (Amazon can ship them) or reserved for a buyer's open order
(`pendingCustomerOrderQuantity`): an AFN order reserves what it takes, shipping lets it go,
cancelling gives it back. The seller sends units in (`receive`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.amazon.orders import iso


@dataclass
class Units:
    fulfillable: int = 0
    pending: int = 0  # reserved for buyers' open orders
    updated: float = 0.0


@dataclass
class FbaInventory:
    clock: Callable[[], float]
    units: dict[str, Units] = field(default_factory=dict)

    def receive(self, sku: str, quantity: int) -> None:
        held = self.units.setdefault(sku, Units())
        held.fulfillable += quantity
        held.updated = self.clock()

    def reserve(self, sku: str, wanted: int) -> int:
        """An AFN order takes up to `wanted` fulfillable units; how many it took."""
        held = self.units.get(sku)
        taken = min(wanted, held.fulfillable) if held else 0
        if held and taken:
            held.fulfillable -= taken
            held.pending += taken
            held.updated = self.clock()
        return taken

    def ship(self, sku: str, quantity: int) -> None:
        held = self.units[sku]
        held.pending -= quantity
        held.updated = self.clock()

    def give_back(self, sku: str, quantity: int) -> None:
        held = self.units[sku]
        held.pending -= quantity
        held.fulfillable += quantity
        held.updated = self.clock()

    def summaries(
        self, skus: Sequence[str] | None, since: float | None, details: bool
    ) -> list[dict[str, Any]]:
        """InventorySummary of each SKU asked for (all when none), changed since `since`."""
        chosen = sorted(self.units) if skus is None else [s for s in skus if s in self.units]
        found = []
        for sku in chosen:
            held = self.units[sku]
            if since is not None and held.updated < since:
                continue
            summary: dict[str, Any] = {
                "asin": f"B0{zlib.crc32(sku.encode()) % 10**8:08d}",
                "fnSku": f"X00{zlib.crc32(sku.encode()) % 10**7:07d}",
                "sellerSku": sku, "condition": "NewItem",
                "lastUpdatedTime": iso(held.updated), "productName": sku,
                "totalQuantity": held.fulfillable + held.pending,
            }  # fmt: skip
            if details:
                summary["inventoryDetails"] = {
                    "fulfillableQuantity": held.fulfillable,
                    "inboundWorkingQuantity": 0, "inboundShippedQuantity": 0,
                    "inboundReceivingQuantity": 0,
                    "reservedQuantity": {
                        "totalReservedQuantity": held.pending,
                        "pendingCustomerOrderQuantity": held.pending,
                        "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0,
                    },
                }  # fmt: skip
            found.append(summary)
        return found
