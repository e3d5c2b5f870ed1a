"""`/metrics` after a stock change and an order: the counters of every seam they pass moved."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.container import Container
from tests.api.catalog.support import create_product, shirt
from tests.graphql import data, gql

SKU = "TS-S-RED"
ERRORS = "userErrors { field message code }"
SETUP = """
mutation { createLocation(input: {code: "WH1", name: "WH1", kind: WAREHOUSE}) { location { id } } }
"""
CREATE_CHANNEL = f"""
mutation($input: CreateChannelInput!) {{
  createChannel(input: $input) {{ channel {{ id }} {ERRORS} }}
}}"""
RECEIVE = f"""
mutation($input: ReceiveStockInput!) {{ receiveStock(input: $input) {{ {ERRORS} }} }}"""
PLACE_ORDER = f"""
mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ order {{ status }} {ERRORS} }} }}
"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_stock_change_and_an_order_move_their_counters(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    async def run(document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(http, document, variables, key=staff_key))

    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []
    wh = (await run(SETUP))["createLocation"]["location"]["id"]
    web = await run(CREATE_CHANNEL, input={"name": "Web", "kind": "WEBSTORE", "currency": "USD",
                                           "locationIds": [wh]})  # fmt: skip
    assert web["createChannel"]["userErrors"] == []
    before = await scrape(http)

    received = await run(RECEIVE, input={"sku": SKU, "locationId": wh, "quantity": 5,
                                         "idempotencyKey": "metrics-receive"})  # fmt: skip
    assert received["receiveStock"]["userErrors"] == []
    placed = await run(
        PLACE_ORDER,
        input={"channelId": web["createChannel"]["channel"]["id"], "cartId": "m1",
               "idempotencyKey": "metrics-order", "customer": {"name": "Ada"},
               "shippingAddress": {"line1": "1 Main St", "country": "US"},
               "lines": [{"sku": SKU, "quantity": 2,
                          "unitPrice": {"amount": "20.00", "currencyCode": "USD"}}]},
    )  # fmt: skip
    assert placed["placeOrder"]["userErrors"] == []
    await container.queue.drain()  # the jobs the commits asked for (the outbox's drain)
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    latency = "nexo_graphql_request_seconds_count"
    assert moved(latency, type="mutation", operation="receiveStock") == 1
    assert moved(latency, type="mutation", operation="placeOrder") == 1
    assert moved("nexo_stock_changes_total", reason="receive") == 1
    assert moved("nexo_stock_changes_total", reason="reserve") == 1  # the order's one line
    assert moved("nexo_order_events_total", kind="created") >= 1
    assert moved("nexo_events_published_total", topic="stock") == 2
    assert moved("nexo_job_seconds_count", job="drain_channel", outcome="ok") >= 1
    # Read from the database at the scrape: the web store's outbox, drained.
    assert ("nexo_outbox_depth", frozenset(
        {"channel": "Web", "kind": "webstore", "state": "waiting"}.items()
    )) in after  # fmt: skip
