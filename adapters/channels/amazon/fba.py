"""FBA stock: what Amazon's fulfilment centres hold of each SKU, from FBA Inventory v1.

`getInventorySummaries` (granularity: the marketplace, with details), page by page through
`nextToken`. A SKU's units are those Amazon can ship (`fulfillableQuantity`) and those it
keeps for buyers' open orders (`reservedQuantity.pendingCustomerOrderQuantity`), which the hub
holds as its AFN orders' reservations. Inbound, researching and unfulfillable units are not
stock the hub can sell.
"""

from __future__ import annotations

from typing import Any, Final

from adapters.channels.amazon.client import AmazonClient

PATH: Final = "/fba/inventory/v1/summaries"
MAX_PAGES: Final = 1000  # 50 summaries a page


async def fba_stock(client: AmazonClient, marketplace_id: str) -> dict[str, int]:
    held: dict[str, int] = {}
    token: str | None = None
    for _ in range(MAX_PAGES):
        params = {"details": "true", "granularityType": "Marketplace",
                  "granularityId": marketplace_id, "marketplaceIds": marketplace_id}  # fmt: skip
        if token:
            params["nextToken"] = token
        answer = await client.call("getInventorySummaries", "GET", PATH, params=params)
        for summary in (answer.body.get("payload") or {}).get("inventorySummaries") or ():
            units = _units(summary)
            if units is not None:
                held[str(summary["sellerSku"])] = units
        token = (answer.body.get("pagination") or {}).get("nextToken")
        if not token:
            break
    return held


def _units(summary: Any) -> int | None:
    if not isinstance(summary, dict) or not isinstance(summary.get("sellerSku"), str):
        return None
    details = summary.get("inventoryDetails") or {}
    fulfillable = details.get("fulfillableQuantity")
    pending = (details.get("reservedQuantity") or {}).get("pendingCustomerOrderQuantity") or 0
    if not isinstance(fulfillable, int) or not isinstance(pending, int):
        return None
    return max(0, fulfillable) + max(0, pending)
