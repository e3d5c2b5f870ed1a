"""A partner key is fenced into its location: it sees its own fulfilment requests and stock,
acknowledges, ships (the order and its channel follow) and counts there — and every other
id it could guess, every other field, answers FORBIDDEN or NOT_FOUND, changes nothing, and is
recorded in the admin audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.utils.str_converters import to_camel_case

from adapters.container import Container
from api.schema import Mutation, Query, Subscription
from api.schema.partner_fence import PartnerFence
from domain.access import Role
from domain.api_keys import create_api_key
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory import setup, stock
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from tests.graphql import data, gql, websocket

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ERRORS = "userErrors { field message code }"
REQUEST = "id locationId orderId orderNumber status lines { lineId sku quantity } shipTo"
REQUESTS = f"query {{ fulfilmentRequests {{ nodes {{ {REQUEST} }} }} }}"
STOCK = "query { locationStock { sku onHand reserved available } }"
ACKNOWLEDGE = f"""mutation($id: ID!) {{ acknowledgeFulfilmentRequest(input: {{requestId: $id}}) {{
  request {{ status }} {ERRORS} }} }}"""
SHIP = f"""mutation($id: ID!, $key: String!) {{
  shipFulfilmentRequest(input: {{requestId: $id, carrier: "DHL", trackingNumber: "JD0001",
                                idempotencyKey: $key}}) {{
    request {{ status }} shipment {{ carrier trackingNumber }} {ERRORS} }} }}"""
COUNT = f"""mutation($counts: [StockCountInput!]!, $location: ID) {{
  reportStockCounts(input: {{counts: $counts, idempotencyKey: "count-1",
                            locationId: $location}}) {{
    levels {{ sku onHand reserved }} {ERRORS} }} }}"""
# What the merchant sees, before and after a partner's attempts: nothing may differ.
WORLD = """query($a: String!, $b: String!, $w: String!) {
  fulfilmentRequests(first: 100) { nodes { id status } }
  orders(first: 100) { nodes { id status lines { status shippedQuantity } shipments { id } } }
  a: inventoryItem(sku: $a) { onHand reserved }
  b: inventoryItem(sku: $b) { onHand reserved }
  w: inventoryItem(sku: $w) { onHand reserved }
  am: stockMovements(sku: $a) { nodes { reason actor } }
  bm: stockMovements(sku: $b) { nodes { reason } }
  apiKeys { name }
  locations { id code }
}"""
ONE_REQUEST = "query($id: ID!) { fulfilmentRequest(id: $id) { id } }"
REQUESTS_AT = "query($l: ID) { fulfilmentRequests(locationId: $l) { nodes { id } } }"
STOCK_AT = "query($l: ID) { locationStock(locationId: $l) { sku } }"
OPEN = {
    "viewer", "fulfilmentRequests", "fulfilmentRequest", "locationStock",
    "acknowledgeFulfilmentRequest", "shipFulfilmentRequest", "reportStockCounts",
}  # fmt: skip


@dataclass
class Partners:
    http: httpx.AsyncClient
    admin: str
    partner_a: str
    da: uuid.UUID
    db: uuid.UUID
    wh: uuid.UUID
    orders: dict[str, uuid.UUID]

    async def run(self, query: str, caller: str, **variables: Any) -> dict[str, Any]:
        return await gql(self.http, query, variables, key=caller)

    async def requests(self, caller: str) -> list[dict[str, Any]]:
        found = data(await self.run(REQUESTS, caller))["fulfilmentRequests"]["nodes"]
        return list(found)

    async def world(self) -> dict[str, Any]:
        return data(await self.run(WORLD, self.admin, a="SKU-A", b="SKU-B", w="SKU-W"))


async def _take(container: Container, shop: uuid.UUID, external_id: str, sku: str) -> uuid.UUID:
    incoming = ChannelOrder(
        external_id=external_id, number=f"#{external_id}", updated_at=T0, placed_at=T0,
        status="paid", lines=(ChannelOrderLine(f"{external_id}-0", sku, 1, Money(900, "USD")),),
        customer={"name": "Ada", "email": "ada@example.com", "phone": None},
        raw={"shipping_address": {"line1": "1 Main St", "city": "Springfield"}},
    )  # fmt: skip
    taken = await ingest(container.uow, shop, incoming, actor="test")
    await allocate(container.uow, taken.order.id, actor="test")
    return taken.order.id


@pytest.fixture
async def partners(http: httpx.AsyncClient, container: Container, admin_key: str) -> Partners:
    """Dropship DA holds SKU-A, 3PL DB holds SKU-B, warehouse WH holds SKU-W; one order each."""
    async with container.uow() as uow:
        made = {
            code: await setup.create_location(uow, code=code, name=code, kind=kind)
            for code, kind in (("WH", "warehouse"), ("DA", "dropship"), ("DB", "3pl"))
        }
        for sku in ("SKU-A", "SKU-B", "SKU-W"):
            await setup.create_inventory_item(uow, sku=sku)
        shop = await channel_setup.create_channel(
            uow, name="Shop", kind="shopify", currency="USD", priority=1,
            location_ids=[made["WH"].id, made["DA"].id, made["DB"].id], rule=AvailabilityRule(),
        )  # fmt: skip
        partner_a = await create_api_key(
            uow, name="partner-a", role=Role.PARTNER, location_id=made["DA"].id
        )
        await create_api_key(uow, name="partner-b", role=Role.PARTNER, location_id=made["DB"].id)
        await uow.commit()
    for sku, code in (("SKU-A", "DA"), ("SKU-B", "DB"), ("SKU-W", "WH")):
        await stock.receive(
            container.uow, sku=sku, location_id=made[code].id, quantity=5,
            key=f"receive-{sku}", actor="test",
        )  # fmt: skip
    orders = {
        code: await _take(container, shop.id, f"O-{code}", f"SKU-{code}")
        for code in ("A", "B", "W")
    }
    return Partners(
        http, admin_key, partner_a.secret, made["DA"].id, made["DB"].id, made["WH"].id, orders
    )


async def test_a_partner_key_sees_acknowledges_ships_and_counts_its_own_work(
    partners: Partners,
) -> None:
    viewer = data(await partners.run("{ viewer { name role locationId } }", partners.partner_a))
    assert viewer["viewer"] == {
        "name": "partner-a",
        "role": "PARTNER",
        "locationId": str(partners.da),
    }
    (own,) = await partners.requests(partners.partner_a)
    assert (own["locationId"], own["orderId"]) == (str(partners.da), str(partners.orders["A"]))
    assert [(ln["sku"], ln["quantity"]) for ln in own["lines"]] == [("SKU-A", 1)]
    assert own["shipTo"] == {"line1": "1 Main St", "city": "Springfield"}
    assert data(await partners.run(STOCK, partners.partner_a))["locationStock"] == [
        {"sku": "SKU-A", "onHand": 5, "reserved": 1, "available": 4}
    ]

    acknowledged = data(await partners.run(ACKNOWLEDGE, partners.partner_a, id=own["id"]))
    assert acknowledged["acknowledgeFulfilmentRequest"]["request"] == {"status": "ACKNOWLEDGED"}
    shipped = data(await partners.run(SHIP, partners.partner_a, id=own["id"], key="ship-1"))
    assert shipped["shipFulfilmentRequest"]["request"] == {"status": "SHIPPED"}
    assert shipped["shipFulfilmentRequest"]["shipment"] == {
        "carrier": "DHL", "trackingNumber": "JD0001"
    }  # fmt: skip
    counted = data(
        await partners.run(COUNT, partners.partner_a, counts=[{"sku": "SKU-A", "onHand": 7}])
    )
    assert counted["reportStockCounts"]["levels"] == [{"sku": "SKU-A", "onHand": 7, "reserved": 0}]

    order = data(
        await partners.run(
            "query($id: ID!) { order(id: $id) { status shipments { carrier trackingNumber } } }",
            partners.admin,
            id=str(partners.orders["A"]),
        )
    )["order"]
    assert order == {
        "status": "SHIPPED",
        "shipments": [{"carrier": "DHL", "trackingNumber": "JD0001"}],
    }
    world = await partners.world()
    assert world["a"] == {"onHand": 7, "reserved": 0}
    assert {"reason": "COUNT", "actor": "partner-a"} in world["am"]["nodes"]


def _code(body: dict[str, Any]) -> str:
    """The refusal an answer carries: its GraphQL error's code, or its payload's userErrors'."""
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    (payload,) = body["data"].values()
    return ",".join(sorted({e["code"] for e in payload["userErrors"]})) or "ANSWERED"


async def test_every_other_id_and_field_is_forbidden_or_not_found_changes_nothing_and_is_audited(
    partners: Partners,
) -> None:
    others = await partners.requests(partners.admin)
    theirs = next(r for r in others if r["locationId"] == str(partners.db))
    b_order, a_order = str(partners.orders["B"]), str(partners.orders["A"])
    db, da, wh = str(partners.db), str(partners.da), str(partners.wh)
    line_b = theirs["lines"][0]["lineId"]
    stock_input = '{sku: "SKU-B", locationId: $l, quantity: 1, idempotencyKey: "x"}'
    receive = f"mutation($l: ID!) {{ receiveStock(input: {stock_input}) {{ {ERRORS} }} }}"
    attempts: list[tuple[str, dict[str, Any], str]] = [
        # Open fields, another location's ids: as if they did not exist.
        (ONE_REQUEST, {"id": theirs["id"]}, "NOT_FOUND"),
        (REQUESTS_AT, {"l": db}, "NOT_FOUND"),
        (STOCK_AT, {"l": db}, "NOT_FOUND"),
        (STOCK_AT, {"l": wh}, "NOT_FOUND"),
        (ACKNOWLEDGE, {"id": theirs["id"]}, "NOT_FOUND"),
        (SHIP, {"id": theirs["id"], "key": "steal"}, "NOT_FOUND"),
        (SHIP, {"id": b_order, "key": "guess-order"}, "NOT_FOUND"),
        (SHIP, {"id": line_b, "key": "guess-line"}, "NOT_FOUND"),
        (COUNT, {"counts": [{"sku": "SKU-B", "onHand": 0}], "location": db}, "NOT_FOUND"),
        (COUNT, {"counts": [{"sku": "SKU-B", "onHand": 0}]}, "NOT_FOUND"),
        (COUNT, {"counts": [{"sku": "SKU-W", "onHand": 0}], "location": wh}, "NOT_FOUND"),
        # Everything else, even about its own location or order: not for a partner.
        ("query($id: ID!) { order(id: $id) { id } }", {"id": b_order}, "FORBIDDEN"),
        ("query($id: ID!) { order(id: $id) { id } }", {"id": a_order}, "FORBIDDEN"),
        ("{ orders { nodes { id } } }", {}, "FORBIDDEN"),
        ("{ locations { id } }", {}, "FORBIDDEN"),
        ('{ inventoryItem(sku: "SKU-A") { onHand } }', {}, "FORBIDDEN"),
        ('{ stockMovements(sku: "SKU-B") { nodes { reason } } }', {}, "FORBIDDEN"),
        ("{ reservations { nodes { id } } }", {}, "FORBIDDEN"),
        ("{ products { nodes { id } } }", {}, "FORBIDDEN"),
        ("{ channels { id } }", {}, "FORBIDDEN"),
        ("{ apiKeys { name } }", {}, "FORBIDDEN"),
        ("{ conflicts { id } }", {}, "FORBIDDEN"),
        (receive, {"l": da}, "FORBIDDEN"),
        (receive, {"l": db}, "FORBIDDEN"),
        (
            f'mutation($l: ID!) {{ countStock(input: {{sku: "SKU-A", locationId: $l, onHand: 0, '
            f'idempotencyKey: "y"}}) {{ {ERRORS} }} }}', {"l": da}, "FORBIDDEN",
        ),
        (
            f'mutation($o: ID!, $l: ID!) {{ createShipment(input: {{orderId: $o, locationId: $l, '
            f'carrier: "X", trackingNumber: "1", idempotencyKey: "z"}}) {{ {ERRORS} }} }}',
            {"o": b_order, "l": db}, "FORBIDDEN",
        ),
        (
            f'mutation($o: ID!) {{ cancelOrder(input: {{orderId: $o, reason: "r", '
            f'idempotencyKey: "c"}}) {{ {ERRORS} }} }}', {"o": a_order}, "FORBIDDEN",
        ),
        (
            f'mutation($l: ID!) {{ createApiKey(input: {{name: "mine", role: PARTNER, '
            f'locationId: $l}}) {{ {ERRORS} }} }}', {"l": db}, "FORBIDDEN",
        ),
        (
            f'mutation($l: ID!) {{ setLocationPartner(input: {{locationId: $l, '
            f'url: "http://evil.test/", secret: "0123456789abcdefgh"}}) {{ {ERRORS} }} }}',
            {"l": da}, "FORBIDDEN",
        ),
        (
            f'mutation {{ createLocation(input: {{code: "X", name: "X", kind: DROPSHIP}}) '
            f'{{ {ERRORS} }} }}', {}, "FORBIDDEN",
        ),
    ]  # fmt: skip
    before = await partners.world()

    answers = []
    for query, variables, want in attempts:
        got = _code(await partners.run(query, partners.partner_a, **variables))
        answers.append((query.split("{")[1].split("(")[0].strip(), got, want))

    assert [(name, got) for name, got, _ in answers] == [(name, want) for name, _, want in answers]
    assert await partners.world() == before
    audited = data(
        await partners.run(
            "{ adminAudit(first: 100) { nodes { actor action outcome } } }", partners.admin
        )
    )["adminAudit"]["nodes"]
    refused = [a for a in audited if a["actor"] == "partner-a"]
    assert len(refused) == len(attempts)
    assert {a["outcome"] for a in refused} == {"refused: FORBIDDEN", "refused: NOT_FOUND"}


async def test_a_partner_key_subscribes_to_nothing(app: Starlette, partners: Partners) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(partners.partner_a))["type"] == "connection_ack"
        op = await socket.subscribe('subscription { stockChanged(skus: ["SKU-A"]) { sku } }')
        message = await socket.receive()
    assert message["id"] == op
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_reports_refuse_a_partner_key(partners: Partners) -> None:
    response = await partners.http.get(
        "/reports/sales.csv", headers={"Authorization": f"Bearer {partners.partner_a}"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_every_root_field_but_the_declared_few_is_closed_to_partners() -> None:
    opened: set[str] = set()
    for root in (Query, Mutation, Subscription):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            (fence,) = [e for e in field.extensions if isinstance(e, PartnerFence)]
            assert field.extensions[-1] is fence  # outermost: nothing runs before it
            if fence._open:
                opened.add(field.graphql_name or to_camel_case(field.python_name))
    assert opened == OPEN


async def test_a_partner_key_sees_its_request_cancelled_and_what_was_withdrawn(
    partners: Partners,
) -> None:
    cancel = """mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "customer asked",
      idempotencyKey: "cancel-a"}) { order { status } userErrors { code } } }"""
    cancelled = data(await partners.run(cancel, partners.admin, id=str(partners.orders["A"])))
    assert cancelled["cancelOrder"] == {"order": {"status": "CANCELLED"}, "userErrors": []}

    seen = """query { fulfilmentRequests { nodes { id status lines { lineId }
      cancellations { reason lines { lineId sku quantity } delivery } } } }"""
    (own,) = data(await partners.run(seen, partners.partner_a))["fulfilmentRequests"]["nodes"]
    assert own["status"] == "CANCELLED"
    assert own["cancellations"] == [
        {
            "reason": "customer asked",
            "lines": [{"lineId": own["lines"][0]["lineId"], "sku": "SKU-A", "quantity": 1}],
            "delivery": "PENDING",  # no endpoint set here: nothing was sent
        }
    ]
    shipped = data(await partners.run(SHIP, partners.partner_a, id=own["id"], key="s"))
    assert shipped["shipFulfilmentRequest"]["userErrors"][0]["code"] == "ILLEGAL_STATE"
