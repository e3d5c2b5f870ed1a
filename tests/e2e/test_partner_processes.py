"""Dropship hand-off across real processes: the Shopify sandbox, one `nexo serve` and one
`nexo worker` on PostgreSQL and Redis, and the supplier's own endpoint (an HTTP server here).

An order placed on the shop for a SKU only the supplier holds is reserved at the dropship
location; the supplier's endpoint receives the fulfilment request, signed (it checks the
HMAC with the secret it shares); the supplier ships through its partner key and the shop's
order shows the tracking number. The same key meets FORBIDDEN or NOT_FOUND everywhere else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests import services
from tests.e2e.sandbox_process import CREDENTIALS, SHOP_LOCATION, Workers, sandbox_running
from tests.e2e.servers import Server, nexo_env, serving
from tests.e2e.test_order_processes import _admin_key, wait_until
from tests.graphql import data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SKU = "DROP-E2E-1"
SECRET = "supplier-shared-secret-42"
TRACKING = "JD014600006281230704"
# Webhook -> inbox -> allocation -> hand-off -> delivery: four jobs on one worker.
REACHES_PARTNER_WITHIN = 30.0
REACHES_SHOP_WITHIN = 20.0
ERRORS = "userErrors { field message code }"


class _Supplier(BaseHTTPRequestHandler):
    """The supplier's endpoint: keeps each request with whether its signature held."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fields = dict(p.split("=", 1) for p in self.headers.get("X-Nexo-Signature", "").split(","))
        signed = f"{fields.get('t', '')}.".encode() + body
        expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(fields.get("t", "0"))) < 300
        valid = fresh and hmac.compare_digest(expected, fields.get("v1", ""))
        assert isinstance(self.server, _Endpoint)
        self.server.received.append((valid, json.loads(body)))
        self.send_response(200 if valid else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Endpoint(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Supplier)
        self.received: list[tuple[bool, dict[str, Any]]] = []


@contextmanager
def supplier_endpoint() -> Iterator[tuple[str, _Endpoint]]:
    endpoint = _Endpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = endpoint.server_address[:2]
        yield f"http://{host!s}:{port}/fulfilment", endpoint
    finally:
        endpoint.shutdown()
        endpoint.server_close()
        thread.join(timeout=5)


def call(server: Server, key: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client(key) as http:
        response = http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ok(server: Server, key: str, query: str, **variables: Any) -> dict[str, Any]:
    (payload,) = data(call(server, key, query, **variables)).values()
    assert payload["userErrors"] == [], payload
    found: dict[str, Any] = payload
    return found


def refusal(body: dict[str, Any]) -> str:
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    (payload,) = body["data"].values()
    return ",".join(e["code"] for e in payload["userErrors"]) or "ANSWERED"


def shop_graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/admin/api/2026-01/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": CREDENTIALS["access_token"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"]
    return found


PRODUCT_SET = """
mutation($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { id } userErrors { field message code } } }"""


def test_a_dropship_order_reaches_the_supplier_signed_and_its_tracking_reaches_the_shop(
    postgres_url: str | None, tmp_path: Path
) -> None:
    if postgres_url is None:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    redis = services.TEST_REDIS_URL
    if not redis:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert postgres_url is not None
    assert redis is not None
    asyncio.run(services.empty_database(postgres_url))
    admin = asyncio.run(_admin_key(postgres_url))
    env = nexo_env(
        NEXO_DATABASE_URL=postgres_url, NEXO_REDIS_URL=redis, NEXO_ENVIRONMENT="dev",
        NEXO_SECRET_KEY=Fernet.generate_key().decode(),
    )  # fmt: skip
    with (
        supplier_endpoint() as (url, endpoint),
        sandbox_running(tmp_path, nexo_env()) as sandbox,
        serving(tmp_path, env, "serve") as (server,),
    ):
        workers = Workers(tmp_path, env)
        try:
            workers.start()
            _run(server, admin, sandbox.url, url, endpoint)
            assert workers.live(), "the worker died"
        finally:
            complaints = workers.stop_all()
        assert not complaints, complaints


def _run(server: Server, admin: str, shop_url: str, url: str, endpoint: _Endpoint) -> None:
    started = time.monotonic()
    location = f"""mutation($c: String!, $k: LocationKind!) {{
      createLocation(input: {{code: $c, name: $c, kind: $k}}) {{ location {{ id }} {ERRORS} }} }}"""
    ds = ok(server, admin, location, c="DS", k="DROPSHIP")["location"]["id"]
    wh = ok(server, admin, location, c="WH", k="WAREHOUSE")["location"]["id"]
    channel = ok(
        server, admin,
        f"""mutation($i: CreateChannelInput!) {{
          createChannel(input: $i) {{ channel {{ id }} {ERRORS} }} }}""",
        i={"name": "Shopify", "kind": "SHOPIFY", "currency": "USD", "locationIds": [wh, ds]},
    )["channel"]["id"]  # fmt: skip
    credentials = {**CREDENTIALS, "api_url": shop_url}
    ok(
        server, admin,
        f"""mutation($i: SetChannelCredentialsInput!) {{
          setChannelCredentials(input: $i) {{ {ERRORS} }} }}""",
        i={"channelId": channel,
           "credentials": [{"name": k, "value": v} for k, v in credentials.items()]},
    )  # fmt: skip
    ok(server, admin, f'mutation {{ createInventoryItem(input: {{sku: "{SKU}"}}) {{ {ERRORS} }} }}')
    ok(
        server, admin,
        f"mutation($i: ReceiveStockInput!) {{ receiveStock(input: $i) {{ {ERRORS} }} }}",
        i={"sku": SKU, "locationId": ds, "quantity": 5, "idempotencyKey": "supplier-stock"},
    )  # fmt: skip
    ok(
        server, admin,
        f"""mutation($i: SetLocationPartnerInput!) {{
          setLocationPartner(input: $i) {{ {ERRORS} }} }}""",
        i={"locationId": ds, "url": url, "secret": SECRET},
    )  # fmt: skip
    partner = ok(
        server, admin,
        f"mutation($l: ID!) {{ createApiKey(input: {{name: \"supplier\", role: PARTNER, "
        f"locationId: $l}}) {{ secret {ERRORS} }} }}",
        l=ds,
    )["secret"]  # fmt: skip
    # The shop sells the SKU (made there directly: Nexo lists nothing here) and tells Nexo.
    made = shop_graphql(shop_url, PRODUCT_SET, {"input": {
        "title": "Drop tee", "productOptions": [{"name": "Size", "values": [{"name": "M"}]}],
        "variants": [{"optionValues": [{"optionName": "Size", "name": "M"}], "sku": SKU,
                      "price": "20.00", "inventoryItem": {"tracked": True},
                      "inventoryQuantities": [{"locationId": SHOP_LOCATION, "name": "available",
                                               "quantity": 5}]}],
    }})  # fmt: skip
    assert made["productSet"]["userErrors"] == []
    hooks = httpx.post(
        f"{shop_url}/_sandbox/webhooks",
        json={"url": f"{server.base_url}/webhooks/{channel}", "topics": ["orders/create"]},
        timeout=10,
    )
    assert hooks.status_code == 200, hooks.text
    placed = httpx.post(f"{shop_url}/_sandbox/orders", json={"lines": [[SKU, 1]]}, timeout=30)
    assert placed.status_code == 201, placed.text
    external_id = placed.json()["id"]

    # The supplier's endpoint receives the request, signed with the secret it shares.
    (valid, request) = wait_until(
        lambda: endpoint.received[0] if endpoint.received else None, REACHES_PARTNER_WITHIN
    )
    assert valid, request
    assert request["locationId"] == ds
    assert [(ln["sku"], ln["quantity"]) for ln in request["lines"]] == [(SKU, 1)]

    # Through its own key the supplier sees it, acknowledges it and ships it.
    seen = data(call(server, partner, "{ fulfilmentRequests { nodes { id status } } }"))
    assert seen["fulfilmentRequests"]["nodes"] == [{"id": request["id"], "status": "REQUESTED"}]
    ok(
        server, partner,
        f"""mutation($r: ID!) {{
          acknowledgeFulfilmentRequest(input: {{requestId: $r}}) {{ {ERRORS} }} }}""",
        r=request["id"],
    )  # fmt: skip
    shipped = ok(
        server, partner,
        f"""mutation($r: ID!, $t: String!) {{ shipFulfilmentRequest(input: {{requestId: $r,
        carrier: "DHL", trackingNumber: $t, idempotencyKey: "ship-1"}}) {{
        request {{ status }} {ERRORS} }} }}""",
        r=request["id"], t=TRACKING,
    )  # fmt: skip
    assert shipped["request"] == {"status": "SHIPPED"}

    def tracked() -> list[Any] | None:
        state = httpx.get(f"{shop_url}/_sandbox/state", timeout=10).json()
        found = [f for f in state["fulfillments"] if f["orderId"] == external_id]
        return found or None

    (fulfillment,) = wait_until(tracked, REACHES_SHOP_WITHIN)
    assert [(t["company"], t["number"]) for t in fulfillment["trackingInfo"]] == [("DHL", TRACKING)]

    # Everything beyond its own location: FORBIDDEN or NOT_FOUND, as if it did not exist.
    order_id = request["orderId"]
    attempts = {
        "another location's stock": (
            "query($l: ID) { locationStock(locationId: $l) { sku } }", {"l": wh}, "NOT_FOUND"),
        "a guessed request": (
            "query($i: ID!) { fulfilmentRequest(id: $i) { id } }", {"i": str(uuid.uuid4())},
            "NOT_FOUND"),
        "counting elsewhere": (
            f"""mutation($l: ID) {{ reportStockCounts(input: {{counts: [{{sku: "{SKU}",
            onHand: 9}}], idempotencyKey: "c", locationId: $l}}) {{ {ERRORS} }} }}""",
            {"l": wh}, "NOT_FOUND"),
        "its order as the merchant sees it": (
            "query($i: ID!) { order(id: $i) { id } }", {"i": order_id}, "FORBIDDEN"),
        "the order book": ("{ orders { nodes { id } } }", {}, "FORBIDDEN"),
        "the locations": ("{ locations { id } }", {}, "FORBIDDEN"),
        "receiving at the warehouse": (
            f"""mutation($l: ID!) {{ receiveStock(input: {{sku: "{SKU}", locationId: $l,
            quantity: 1, idempotencyKey: "r"}}) {{ {ERRORS} }} }}""", {"l": wh}, "FORBIDDEN"),
        "a key of its own": (
            f'mutation {{ createApiKey(input: {{name: "x", role: ADMIN}}) {{ {ERRORS} }} }}',
            {}, "FORBIDDEN"),
    }  # fmt: skip
    answers = {
        what: refusal(call(server, partner, query, **variables))
        for what, (query, variables, _) in attempts.items()
    }
    assert answers == {what: want for what, (_, _, want) in attempts.items()}
    levels = data(call(server, admin, f'{{ inventoryItem(sku: "{SKU}") {{ onHand reserved }} }}'))
    assert levels["inventoryItem"] == {"onHand": 4, "reserved": 0}
    print(f"dropship hand-off end to end: {time.monotonic() - started:.1f}s after start-up")
