"""Item visits per day (MercadoLibre's Visits resource), the channel's listing views.

MercadoLibre counts visits to an item's page (VIP), per item and day, unique per day, and
answers the multiget `GET /items/visits/time_window?ids=ID1,ID2&last={n}&unit=day`
(developers.mercadolibre.com.ar "Visits" / "Recurso de visitas", §"Dated visits by item
MULTIGET"): a list, one entry per item —

    {"item_id": "MLA1", "date_from": "...", "date_to": "...", "total_visits": 46,
     "last": 2, "unit": "day",
     "results": [{"date": "2026-12-06T00:00:00Z", "total": 12, "visits_detail": [...]}]}

`last` counts days back from now (`ending`, by default the current time), at most 150; the
hub asks enough of them to reach the day it reads and keeps that day's result. The same
pages give `GET /visits/items?ids=&date_from=&date_to=` for totals over a range
(`{"MLA1": 34}`), which a per-day figure does not need. Their figures settle within 48-72
hours; the job reads today and the 3 days before it each hour (the adapter's
`views_look_back_days`), so a visit counted that late is picked up.

Views are per item. A classic item sells a product's variants as its variations: each of its
SKUs gets the item's figure — as Shopify gives each variant its product page's sessions and
eBay each SKU of a multiple-variation listing the listing's views (a buyer picks the
variation on that page). Under User Products each item is one SKU, so the figure is the
SKU's own. The SKU's item is `item_id` in its refs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from adapters.channel_kit.calls import chunks
from adapters.channels.mercadolibre.client import MeliClient
from domain.channels.port import ChannelUnavailable

PATH: Final = "/items/visits/time_window"
# Item ids per visits multiget: MercadoLibre documents none; 50 is what its other multigets
# of ids in a query allow at most, and what the sandbox enforces.
PER_CALL: Final = 50
MOST_DAYS: Final = 150


async def read_views(
    client: MeliClient, refs: Mapping[str, Mapping[str, str]], day: date, today: date
) -> dict[str, int]:
    """Visits on `day` of the item selling each SKU (SKUs without an item id are left out;
    an item nobody visited that day is 0). `today` is MercadoLibre's now, where `last` ends."""
    skus_of: dict[str, list[str]] = {}
    for sku, ids in refs.items():
        if ids.get("item_id"):
            skus_of.setdefault(ids["item_id"], []).append(sku)
    back = (today - day).days + 1
    if not skus_of or not 1 <= back <= MOST_DAYS:
        return {sku: 0 for skus in skus_of.values() for sku in skus}
    visited: dict[str, int] = {}
    for chunk in chunks(list(skus_of), PER_CALL):
        params = {"ids": ",".join(chunk), "last": str(back), "unit": "day"}
        answer = await client.call("GET", PATH, params=params, operation="getItemVisits")
        visited.update(day_visits(answer.body, day))
    return {sku: visited.get(item, 0) for item, skus in skus_of.items() for sku in skus}


def day_visits(body: Any, day: date) -> dict[str, int]:
    """item id -> visits on `day`, from a time_window multiget answer (a single item's
    answer, an object, is read as a list of one)."""
    entries = [body] if isinstance(body, dict) else body
    if not isinstance(entries, list):
        raise ChannelUnavailable("MercadoLibre's visits answer is not a list")
    found: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("item_id"):
            continue
        for result in entry.get("results") or []:
            if not isinstance(result, dict) or str(result.get("date"))[:10] != day.isoformat():
                continue
            total = result.get("total")
            if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
                item = str(entry["item_id"])
                found[item] = found.get(item, 0) + total
    return found
