"""The marketplaces' own machine-readable specs, as published, kept gzipped in the repository.

The Shopify sandbox executes requests against Shopify's Admin GraphQL schema; tests check
the adapters' requests against the Amazon and eBay contracts. Sources and versions:

- `admin-graphql-2026-01.graphql.gz`: Shopify Admin GraphQL API 2026-01, SDL, as served by
  Shopify's public schema endpoint (mirrored in soenneker/soenneker.shopify.graphqlclient,
  file graphql.schema, commit 05310d1).
- `listingsItems_2021-08-01.json.gz`, `orders_2026-01-01.json.gz`, `ordersV0.json.gz`,
  `feeds_2021-06-30.json.gz`: Amazon Selling Partner API models (Listings Items 2021-08-01,
  Orders 2026-01-01 and v0, Feeds 2021-06-30), Swagger 2.0, and the JSON Schemas
  `listings-feed-schema-v2.json.gz`, `listings-feed-message-schema-v2.json.gz`,
  `listings-feed-processing-report-schema-v2.json.gz` (JSON_LISTINGS_FEED and its report),
  `OrderChangeNotification.json.gz`, `ListingsItemMfnQuantityChange.json.gz` (notification
  payloads), `reports_2021-06-30.json.gz` (Reports 2021-06-30) and
  `sellerSalesAndTrafficReport.json.gz` (GET_SALES_AND_TRAFFIC_REPORT's document)
  (amzn/selling-partner-api-models, commit 34dc93f).
- `sell_inventory_v1_oas3.json.gz`: eBay Sell Inventory API, OpenAPI 3, as eBay publishes it
  (mirrored unmodified in YosefHayim/ebay-mcp, commit 993608c).

Byte-for-byte copies of those files, only compressed.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def read(name: str) -> str:
    """The text of one spec file, by its name without `.gz`."""
    return gzip.decompress((HERE / f"{name}.gz").read_bytes()).decode("utf-8")
