"""Stock files for SPAs: `importStock` (all rows or none, once) and `exportLink` (a signed
link to download an export)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.catalog.support import create_product, shirt
from tests.graphql import data, gql

SKU = "TS-S-RED"
IMPORT = """
mutation($csv: String!) {
  importStock(input: {csv: $csv}) { applied replayed userErrors { field message code } }
}"""
LINK = "query($kind: ExportKind!) { exportLink(kind: $kind) { url expiresAt } }"
SETUP = """
mutation { createLocation(input: {code: "WH1", name: "WH1", kind: WAREHOUSE}) { location { id } } }
"""


async def test_an_import_applies_once_and_its_export_link_downloads_the_levels(
    http: httpx.AsyncClient, staff_key: str, readonly_key: str
) -> None:
    async def run(document: str, key: str = staff_key, **variables: Any) -> dict[str, Any]:
        return data(await gql(http, document, variables, key=key))

    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []
    await run(SETUP)
    good = f"sku,location,kind,quantity\n{SKU},WH1,receive,9\n{SKU},WH1,count,6\n"
    bad = good + f"{SKU},WH9,receive,1\n"

    refused = (await run(IMPORT, csv=bad))["importStock"]
    headless = (await run(IMPORT, csv=f"{SKU},WH1,receive,9\n"))["importStock"]
    first = (await run(IMPORT, csv=good))["importStock"]
    again = (await run(IMPORT, csv=good))["importStock"]

    assert refused["applied"] == 0
    message = "row 4: location: unknown location 'WH9'"
    assert refused["userErrors"] == [{"field": "csv", "code": "INVALID_INPUT", "message": message}]
    assert headless["userErrors"][0]["message"].startswith("header (row 1): unknown column")
    assert (first["applied"], first["replayed"], first["userErrors"]) == (2, 0, [])
    assert (again["applied"], again["replayed"]) == (0, 2)

    link = (await run(LINK, key=readonly_key, kind="STOCK"))["exportLink"]
    downloaded = await http.get(link["url"])  # no header: the link is the permission
    assert downloaded.status_code == 200
    assert downloaded.text.splitlines() == [
        "sku,location,on_hand,reserved,available",
        f"{SKU},WH1,6,0,6",
    ]
    token = link["url"].split("token=")[1]
    assert (await http.get(f"/exports/orders.csv?token={token}")).status_code == 401
    assert (await http.get("/exports/stock.csv?token=forged")).status_code == 401
    assert (await http.get("/exports/stock.csv")).status_code == 401


async def test_products_and_orders_export_with_an_api_key(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []
    header = {"Authorization": f"Bearer {staff_key}"}

    products = await http.get("/exports/products.csv", headers=header)
    orders = await http.get("/exports/orders.csv", headers=header)

    rows = products.text.splitlines()
    assert rows[0].startswith("handle,title,description_html,brand,category_id,tags,attributes")
    assert any(f",{SKU}," in row for row in rows[1:])
    assert orders.text.splitlines() == [
        "order_id,channel,external_id,number,status,placed_at,customer,sku,quantity,"
        "unit_price_minor,currency,line_status,shipped"
    ]
