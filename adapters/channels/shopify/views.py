"""Product page views from ShopifyQL (`shopifyqlQuery`, Admin GraphQL 2026-01).

Shopify reports views in ShopifyQL's `products` dataset (shopify.dev, ShopifyQL "Products
dataset"): `view_sessions`, the sessions with a view of the product's page, per `product_id`
(summed with `sum(view_sessions)`). The hub asks one UTC day at a time:

    FROM products SHOW sum(view_sessions) AS view_sessions
      SINCE 2026-12-06 UNTIL 2026-12-06 GROUP BY product_id

(the clauses in the order ShopifyQL's syntax reference requires: FROM, SHOW, WHERE, SINCE and
UNTIL, GROUP BY, TIMESERIES, ...)
and gets a table: `columns` (name, dataType, displayName) and `rows` (one JSON object per row
keyed by column name; a row given as a list is read by the columns' order too).

Shopify counts per product page, not per variant (a shopper picks the size on that page), so
each SKU of a product gets the product's figure — as eBay gives each SKU of a
multiple-variation listing the listing's views. A SKU's conversion is then its orders over the
views of the page that sells it, which is what a merchant reads off Shopify's own product
report. Sessions, not page loads: a shopper who reloads the page counts once.
The SKU's product is the listing's product gid (`listing_id`) in its refs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from adapters.channels.shopify import documents as doc
from adapters.channels.shopify.client import ShopifyClient
from domain.channels.port import ChannelRejected, ChannelUnavailable

COLUMN: Final = "view_sessions"
PRODUCT: Final = "product_id"
PRODUCT_GID: Final = "gid://shopify/Product/"


def views_query(day: date) -> str:
    """The ShopifyQL asking view sessions per product on `day` (the shop's day: UTC here)."""
    return (
        f"FROM products SHOW sum({COLUMN}) AS {COLUMN} "
        f"SINCE {day.isoformat()} UNTIL {day.isoformat()} GROUP BY {PRODUCT}"
    )


async def read_views(
    client: ShopifyClient, refs: Mapping[str, Mapping[str, str]], day: date
) -> dict[str, int]:
    """View sessions on `day` of the product page selling each SKU (SKUs without a product
    gid are left out; a product nobody viewed that day is 0)."""
    skus_of: dict[str, list[str]] = {}
    for sku, ids in refs.items():
        listing = ids.get("listing_id") or ""
        if listing.startswith(PRODUCT_GID):
            skus_of.setdefault(listing.removeprefix(PRODUCT_GID), []).append(sku)
    if not skus_of:
        return {}
    data = await client.execute(
        doc.VIEWS_READ, {"query": views_query(day)}, estimated_cost=doc.VIEWS_READ_COST
    )
    answer = data.get("shopifyqlQuery")
    if not isinstance(answer, dict):
        raise ChannelUnavailable("Shopify's shopifyqlQuery answer is missing")
    if answer.get("parseErrors"):
        raise ChannelRejected(f"ShopifyQL refused the views query: {answer['parseErrors']}")
    viewed = product_views(answer.get("tableData"))
    return {sku: viewed.get(product, 0) for product, skus in skus_of.items() for sku in skus}


def product_views(table: Any) -> dict[str, int]:
    """product id (digits) -> view sessions, from a ShopifyqlTableData."""
    if not isinstance(table, dict):
        raise ChannelUnavailable("Shopify's shopifyqlQuery answer has no table")
    names = [c.get("name") for c in table.get("columns") or [] if isinstance(c, dict)]
    if PRODUCT not in names or COLUMN not in names:
        raise ChannelUnavailable(f"Shopify's views table lacks {PRODUCT} or {COLUMN}: {names}")
    found: dict[str, int] = {}
    for row in table.get("rows") or []:
        cells = dict(zip(names, row, strict=False)) if isinstance(row, list) else row
        if not isinstance(cells, dict):
            continue
        product, count = str(cells.get(PRODUCT) or ""), _count(cells.get(COLUMN))
        product = product.removeprefix(PRODUCT_GID)
        if product and count is not None:
            found[product] = found.get(product, 0) + count
    return found


def _count(value: Any) -> int | None:
    """A count as ShopifyQL gives it (a number, or its text); None for anything else."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number >= 0 and number == int(number) else None
