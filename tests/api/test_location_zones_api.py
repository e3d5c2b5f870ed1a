"""Shipping zones through the API: an admin sets them, bad ones are typed errors that change
nothing, and an order's line says the zone routed it."""

from __future__ import annotations

from dataclasses import replace

import httpx

from adapters.container import Container
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.inventory import setup, stock
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from tests.graphql import data, gql
from tests.integration.orders.conftest import channel_order

SET = """
mutation($input: SetLocationZonesInput!) {
  setLocationZones(input: $input) {
    location { code zones { country region } } userErrors { field message code }
  }
}"""
ORDER = "query($id: ID!) { order(id: $id) { lines { location { code } routedBy } } }"


async def test_an_admin_sets_zones_and_the_order_line_shows_the_zone(
    http: httpx.AsyncClient, container: Container, admin_key: str, staff_key: str
) -> None:
    async with container.uow() as uow:
        wh = await setup.create_location(uow, code="WH", name="WH", kind="warehouse")
        eu = await setup.create_location(uow, code="EU", name="EU", kind="warehouse")
        await setup.create_inventory_item(uow, sku="PART-1")
        shop = await channel_setup.create_channel(
            uow, name="Shop", kind="shopify", currency="USD", priority=1,
            location_ids=[wh.id, eu.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    for where in (wh.id, eu.id):
        await stock.receive(container.uow, sku="PART-1", location_id=where, quantity=3,
                            key=f"r-{where}", actor="test")  # fmt: skip
    given = {"locationId": str(eu.id), "zones": [{"country": "de", "region": "DE-BY"},
                                                  {"country": "AT"}]}  # fmt: skip

    staff = await gql(http, SET, {"input": given}, key=staff_key)
    bad = await gql(http, SET, {"input": {**given, "zones": [
        {"country": "ZZ"}, {"country": "DEU"}, {"country": "US", "region": "CALIF"},
    ]}}, key=admin_key)  # fmt: skip
    done = await gql(http, SET, {"input": given}, key=admin_key)

    assert staff["data"] is None
    assert "admin" in staff["errors"][0]["message"]
    refused = data(bad)["setLocationZones"]
    assert refused["location"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("zones[0].country", "INVALID_INPUT"), ("zones[1].country", "INVALID_INPUT"),
        ("zones[2].region", "INVALID_INPUT"),
    ]  # fmt: skip
    assert data(done)["setLocationZones"] == {
        "location": {"code": "EU", "zones": [{"country": "AT", "region": None},
                                             {"country": "DE", "region": "BY"}]},
        "userErrors": [],
    }  # fmt: skip
    order = replace(
        channel_order("Z-1"), raw={"shipping_address": {"country": "DE", "province": "by"}}
    )
    taken = await ingest(container.uow, shop.id, order, actor="test")
    await allocate(container.uow, taken.order.id, actor="test")
    shown = data(await gql(http, ORDER, {"id": str(taken.order.id)}, key=staff_key))
    assert shown["order"]["lines"] == [
        {"location": {"code": "EU"}, "routedBy": "zone DE-BY: whole order from EU"}
    ]
