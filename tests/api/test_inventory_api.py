"""The inventory GraphQL API as a client uses it: set up, move stock, hold it, publish it.

Every mutation answers with a payload; expected failures are typed `userErrors` and change
nothing, which each bad-input case proves by re-reading levels, the ledger and reservations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.graphql import data, gql

LEVEL = "sku location { id code } onHand reserved available version"
ERRORS = "userErrors { field message code }"
RESERVATION = "reservation { id sku quantity status reference location { id } }"

# name -> (input type, selection of the payload)
MUTATIONS: dict[str, tuple[str, str]] = {
    "createLocation": ("CreateLocationInput", f"location {{ id code name kind }} {ERRORS}"),
    "createInventoryItem": (
        "CreateInventoryItemInput",
        f"inventoryItem {{ sku lowStockThreshold stockState onHand }} {ERRORS}",
    ),
    "receiveStock": ("ReceiveStockInput", f"levels {{ {LEVEL} }} replayed {ERRORS}"),
    "adjustStock": ("AdjustStockInput", f"levels {{ {LEVEL} }} replayed {ERRORS}"),
    "countStock": ("CountStockInput", f"levels {{ {LEVEL} }} replayed {ERRORS}"),
    "transferStock": ("TransferStockInput", f"levels {{ {LEVEL} }} replayed {ERRORS}"),
    "reserveStock": ("ReserveStockInput", f"{RESERVATION} replayed {ERRORS}"),
    "reserveStockLines": (
        "ReserveStockLinesInput",
        f"lines {{ sku quantity {RESERVATION} error {{ field message code }} }} replayed {ERRORS}",
    ),
    "releaseReservation": ("ReservationInput", f"{RESERVATION} replayed {ERRORS}"),
    "commitReservation": ("ReservationInput", f"{RESERVATION} replayed {ERRORS}"),
    "acknowledgeAlert": (
        "AcknowledgeAlertInput",
        f"alert {{ id kind acknowledgedAt acknowledgedBy }} {ERRORS}",
    ),
    "createChannel": (
        "CreateChannelInput",
        "channel { id name kind currency priority locationIds bufferQuantity "
        f"allocationPercent maxQuantity endWhenBelow }} {ERRORS}",
    ),
    "setChannelSkuRule": ("SetChannelSkuRuleInput", f"channel {{ id name }} {ERRORS}"),
}

ITEM = f"""
query($sku: String!) {{
  inventoryItem(sku: $sku) {{ sku onHand reserved available stockState levels {{ {LEVEL} }} }}
}}"""
ITEMS = """
query($first: Int!, $after: String, $search: String) {
  inventoryItems(first: $first, after: $after, filter: {search: $search}) {
    edges { cursor node { sku onHand } } pageInfo { hasNextPage endCursor }
  }
}"""
MOVEMENTS = """
query($sku: String!, $first: Int!, $after: String) {
  stockMovements(sku: $sku, first: $first, after: $after) {
    edges { cursor node { id sku location { id } onHandDelta reservedDelta reason actor
                          reference note detail reservationId } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RESERVATIONS = """
query($sku: String, $status: ReservationStatus, $reference: String, $first: Int!,
      $after: String) {
  reservations(sku: $sku, status: $status, reference: $reference, first: $first,
               after: $after) {
    nodes { id sku quantity status reference location { id } closedAt }
    pageInfo { hasNextPage endCursor }
  }
}"""
ALERTS = """
query($sku: String, $acknowledged: Boolean, $first: Int!, $after: String) {
  alerts(sku: $sku, acknowledged: $acknowledged, first: $first, after: $after) {
    nodes { id kind sku available threshold acknowledgedAt acknowledgedBy }
    pageInfo { hasNextPage endCursor }
  }
}"""
AVAILABILITY = """
query($sku: String!, $channelId: ID!) {
  channelAvailability(sku: $sku, channelId: $channelId) { quantity explanation { step value } }
}"""
AUDIT = (
    "{ inventoryAudit { checkedLevels mismatches { sku locationId expected actual }"
    " totalMismatches { sku expected actual } } }"
)
LOCATIONS = "{ locations { id code name kind } }"
CHANNELS = """{ channels { id name kind currency priority locationIds bufferQuantity
                          allocationPercent maxQuantity endWhenBelow } }"""


def mutation(name: str) -> str:
    input_type, selection = MUTATIONS[name]
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"


@dataclass
class Api:
    """One API key's view of the GraphQL endpoint."""

    http: httpx.AsyncClient
    key: str

    async def query(self, document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(self.http, document, variables, key=self.key))

    async def query_error(self, document: str, **variables: Any) -> dict[str, Any]:
        """The single GraphQL error a query must answer with."""
        body = await gql(self.http, document, variables, key=self.key)
        assert body.get("data") is None, body
        assert len(body["errors"]) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error

    async def raw(self, operation: str, /, **fields: Any) -> dict[str, Any]:
        return await gql(self.http, mutation(operation), {"input": fields}, key=self.key)

    async def call(self, operation: str, /, **fields: Any) -> dict[str, Any]:
        """A mutation's payload, whatever its userErrors."""
        payload: dict[str, Any] = data(await self.raw(operation, **fields))[operation]
        return payload

    async def ok(self, operation: str, /, **fields: Any) -> dict[str, Any]:
        """A mutation's payload, which must have no userErrors."""
        payload = await self.call(operation, **fields)
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload

    async def item(self, sku: str) -> dict[str, Any]:
        item: dict[str, Any] = (await self.query(ITEM, sku=sku))["inventoryItem"]
        return item

    async def movements(self, sku: str) -> list[dict[str, Any]]:
        page = (await self.query(MOVEMENTS, sku=sku, first=100))["stockMovements"]
        assert page["pageInfo"]["hasNextPage"] is False
        return [edge["node"] for edge in page["edges"]]

    async def reservations(self, **filters: Any) -> list[dict[str, Any]]:
        page = (await self.query(RESERVATIONS, first=100, **filters))["reservations"]
        assert page["pageInfo"]["hasNextPage"] is False
        nodes: list[dict[str, Any]] = page["nodes"]
        return nodes

    async def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = (await self.query(ALERTS, first=100, **filters))["alerts"][
            "nodes"
        ]
        return nodes

    async def audit(self) -> dict[str, Any]:
        audit: dict[str, Any] = (await self.query(AUDIT))["inventoryAudit"]
        return audit

    async def state(self, *skus: str) -> dict[str, Any]:
        """Everything a failed mutation must leave as it was."""
        return {
            "items": [await self.item(sku) for sku in skus],
            "movements": {sku: len(await self.movements(sku)) for sku in skus},
            "reservations": await self.reservations(),
            "alerts": await self.alerts(),
            "locations": (await self.query(LOCATIONS))["locations"],
            "channels": (await self.query(CHANNELS))["channels"],
        }


@dataclass
class Stockroom:
    api: Api
    wh: str  # location ids
    st: str


def level(location: str, code: str, on_hand: int, reserved: int, version: int) -> dict[str, Any]:
    return {
        "sku": "A",
        "location": {"id": location, "code": code},
        "onHand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "version": version,
    }


@pytest.fixture
def api(http: httpx.AsyncClient, staff_key: str) -> Api:
    return Api(http, staff_key)


@pytest.fixture
async def stockroom(api: Api) -> Stockroom:
    """A warehouse WH1, a store ST1 and SKU A (low below 3) and SKU B, created as a client."""
    wh = await api.ok("createLocation", code="WH1", name="Main warehouse", kind="WAREHOUSE")
    st = await api.ok("createLocation", code="ST1", name="High street", kind="STORE")
    created = await api.ok("createInventoryItem", sku="A", lowStockThreshold=3)
    assert created["inventoryItem"] == {
        "sku": "A",
        "lowStockThreshold": 3,
        "stockState": "OUT",
        "onHand": 0,
    }
    await api.ok("createInventoryItem", sku="B")
    return Stockroom(api, wh["location"]["id"], st["location"]["id"])


# --- the whole flow ---------------------------------------------------------------------------


async def test_locations_are_created_and_listed_by_code(stockroom: Stockroom) -> None:
    api = stockroom.api
    assert (await api.query(LOCATIONS))["locations"] == [
        {"id": stockroom.st, "code": "ST1", "name": "High street", "kind": "STORE"},
        {"id": stockroom.wh, "code": "WH1", "name": "Main warehouse", "kind": "WAREHOUSE"},
    ]
    duplicate = await api.call("createLocation", code="WH1", name="Again", kind="STORE")
    assert duplicate["location"] is None
    assert [(e["code"], e["field"]) for e in duplicate["userErrors"]] == [
        ("ALREADY_EXISTS", "code")
    ]
    assert len((await api.query(LOCATIONS))["locations"]) == 2


async def test_receive_adjust_count_transfer_reserve_release_commit(stockroom: Stockroom) -> None:
    api, wh, st = stockroom.api, stockroom.wh, stockroom.st

    received = await api.ok(
        "receiveStock", sku="A", locationId=wh, quantity=10, idempotencyKey="r1"
    )
    assert received["replayed"] is False
    assert received["levels"] == [level(wh, "WH1", 10, 0, 1)]

    adjusted = await api.ok(
        "adjustStock", sku="A", locationId=wh, delta=-2, reason="damaged", idempotencyKey="a1"
    )
    assert adjusted["levels"] == [level(wh, "WH1", 8, 0, 2)]

    counted = await api.ok(
        "countStock", sku="A", locationId=wh, onHand=7, expectedOnHand=8, idempotencyKey="c1"
    )
    assert counted["levels"] == [level(wh, "WH1", 7, 0, 3)]

    moved = await api.ok(
        "transferStock",
        sku="A",
        fromLocationId=wh,
        toLocationId=st,
        quantity=3,
        idempotencyKey="t1",
    )
    assert moved["levels"] == [level(wh, "WH1", 4, 0, 4), level(st, "ST1", 3, 0, 1)]

    held = await api.ok(
        "reserveStock", sku="A", quantity=2, locationId=wh, reference="order-1", idempotencyKey="h1"
    )
    first = held["reservation"]
    assert first == {
        "id": first["id"],
        "sku": "A",
        "quantity": 2,
        "status": "ACTIVE",
        "reference": "order-1",
        "location": {"id": wh},
    }
    # Without a location: the first (by code) that has it, ST1.
    second = (await api.ok("reserveStock", sku="A", quantity=1, idempotencyKey="h2"))["reservation"]
    assert second["location"] == {"id": st}
    assert second["status"] == "ACTIVE"
    assert (await api.item("A"))["levels"] == [
        level(st, "ST1", 3, 1, 2),
        level(wh, "WH1", 4, 2, 5),
    ]

    released = await api.ok("releaseReservation", reservationId=first["id"], idempotencyKey="x1")
    assert released["reservation"]["status"] == "RELEASED"
    assert released["reservation"]["id"] == first["id"]
    committed = await api.ok("commitReservation", reservationId=second["id"], idempotencyKey="x2")
    assert committed["reservation"]["status"] == "COMMITTED"

    assert await api.item("A") == {
        "sku": "A",
        "onHand": 6,
        "reserved": 0,
        "available": 6,
        "stockState": "IN_STOCK",
        "levels": [level(st, "ST1", 2, 0, 3), level(wh, "WH1", 4, 0, 6)],
    }

    movements = await api.movements("A")
    reasons = [m["reason"] for m in movements]
    assert reasons == [
        "RECEIVE",
        "ADJUST",
        "COUNT",
        "TRANSFER",
        "TRANSFER",
        "RESERVE",
        "RESERVE",
        "RELEASE",
        "COMMIT",
    ]
    assert {m["actor"] for m in movements} == {"test-staff"}
    assert movements[1]["detail"] == "damaged"
    assert movements[2]["onHandDelta"] == -1
    assert movements[2]["detail"] == "counted 7, was 8"
    legs = {(m["location"]["id"], m["onHandDelta"]) for m in movements[3:5]}
    assert legs == {(wh, -3), (st, 3)}
    assert movements[5]["reservationId"] == first["id"]
    assert movements[5]["reference"] == "order-1"
    assert (movements[8]["onHandDelta"], movements[8]["reservedDelta"]) == (-1, -1)
    # The ledger adds up to the levels.
    for location, on_hand in ((wh, 4), (st, 2)):
        mine = [m for m in movements if m["location"]["id"] == location]
        assert sum(m["onHandDelta"] for m in mine) == on_hand
        assert sum(m["reservedDelta"] for m in mine) == 0

    listed = await api.reservations(sku="A")
    assert [(r["id"], r["status"]) for r in listed] == [
        (first["id"], "RELEASED"),
        (second["id"], "COMMITTED"),
    ]
    assert all(r["closedAt"] is not None for r in listed)
    assert await api.reservations(status="ACTIVE") == []
    assert [r["id"] for r in await api.reservations(reference="order-1")] == [first["id"]]
    assert await api.reservations(sku="B") == []

    assert await api.audit() == {"checkedLevels": 2, "mismatches": [], "totalMismatches": []}


async def test_order_lines_are_reserved_all_or_nothing_or_partially(
    stockroom: Stockroom,
) -> None:
    api, wh, st = stockroom.api, stockroom.wh, stockroom.st
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=3, idempotencyKey="a")
    await api.ok("receiveStock", sku="B", locationId=st, quantity=1, idempotencyKey="b")
    lines = [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}]

    refused = await api.call(
        "reserveStockLines", lines=lines, mode="ALL_OR_NOTHING", idempotencyKey="o1"
    )
    assert refused["lines"] == []
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INSUFFICIENT_STOCK", "lines[1]")
    ]
    assert ((await api.item("A"))["reserved"], (await api.item("B"))["reserved"]) == (0, 0)

    partial = await api.ok(
        "reserveStockLines", lines=lines, mode="PARTIAL", idempotencyKey="o2", reference="order-2"
    )
    first, second = partial["lines"]
    assert first["reservation"]["quantity"] == 2
    assert first["reservation"]["location"]["id"] == wh
    assert first["reservation"]["reference"] == "order-2"
    assert first["error"] is None
    assert second["reservation"] is None
    assert second["error"]["code"] == "INSUFFICIENT_STOCK"
    assert ((await api.item("A"))["reserved"], (await api.item("B"))["reserved"]) == (2, 0)

    again = await api.ok(
        "reserveStockLines", lines=lines, mode="PARTIAL", idempotencyKey="o2", reference="order-2"
    )
    assert again["replayed"] is True
    assert again["lines"][0]["reservation"]["id"] == first["reservation"]["id"]
    assert (await api.item("A"))["reserved"] == 2


async def test_inventory_items_paginate_by_cursor_and_filter(api: Api) -> None:
    for sku in ["P-04", "P-02", "Q_1", "P-05", "P-01", "P-03"]:
        await api.ok("createInventoryItem", sku=sku)

    seen: list[str] = []
    pages: list[bool] = []
    after = None
    while True:
        page = (await api.query(ITEMS, first=2, after=after, search="P-"))["inventoryItems"]
        seen += [edge["node"]["sku"] for edge in page["edges"]]
        pages.append(page["pageInfo"]["hasNextPage"])
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["P-01", "P-02", "P-03", "P-04", "P-05"]
    assert pages == [True, True, False]

    everything = (await api.query(ITEMS, first=50))["inventoryItems"]
    assert [e["node"]["sku"] for e in everything["edges"]] == [
        "P-01",
        "P-02",
        "P-03",
        "P-04",
        "P-05",
        "Q_1",
    ]
    # LIKE wildcards in a search are literal characters.
    underscore = (await api.query(ITEMS, first=50, search="_"))["inventoryItems"]
    assert [e["node"]["sku"] for e in underscore["edges"]] == ["Q_1"]

    for first in (0, 101):
        error = await api.query_error(ITEMS, first=first)
        assert error["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_stock_movements_paginate_by_cursor(stockroom: Stockroom) -> None:
    api, wh = stockroom.api, stockroom.wh
    for n in range(7):
        await api.ok("receiveStock", sku="A", locationId=wh, quantity=n + 1, idempotencyKey=f"m{n}")
    await api.ok(
        "transferStock",
        sku="A",
        fromLocationId=wh,
        toLocationId=stockroom.st,
        quantity=1,
        idempotencyKey="mt",
    )
    everything = await api.movements("A")
    assert len(everything) == 9

    ids: list[str] = []
    sizes: list[int] = []
    after = None
    while True:
        page = (await api.query(MOVEMENTS, sku="A", first=4, after=after))["stockMovements"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        sizes.append(len(page["edges"]))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sizes == [4, 4, 1]
    assert ids == [m["id"] for m in everything]
    assert [m["onHandDelta"] for m in everything[:7]] == [1, 2, 3, 4, 5, 6, 7]


async def test_a_malformed_cursor_is_a_typed_error(stockroom: Stockroom) -> None:
    import base64
    import json

    api = stockroom.api

    def crafted(*values: str) -> str:
        return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()

    # Not base64 JSON; the wrong shape; the right shape holding no position; a naive time.
    for cursor in (
        "%%%",
        crafted("2024-01-01T00:00:00+00:00"),
        crafted("yesterday", "nobody"),
        crafted("2024-01-01T00:00:00+00:00", "nobody"),
        crafted("2024-01-01T00:00:00", str(uuid.uuid4())),
    ):
        for document, variables in (
            (MOVEMENTS, {"sku": "A"}),
            (RESERVATIONS, {}),
            (ALERTS, {}),
        ):
            error = await api.query_error(document, first=5, after=cursor, **variables)
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": "after"}, (
                document,
                cursor,
                error,
            )


async def test_reservations_paginate_and_filter(stockroom: Stockroom) -> None:
    api, wh = stockroom.api, stockroom.wh
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=20, idempotencyKey="in")
    made = [
        (
            await api.ok(
                "reserveStock",
                sku="A",
                quantity=1,
                reference=f"order-{n % 2}",
                idempotencyKey=f"res-{n}",
            )
        )["reservation"]["id"]
        for n in range(5)
    ]
    await api.ok("releaseReservation", reservationId=made[0], idempotencyKey="rel")

    ids: list[str] = []
    after = None
    while True:
        page = (await api.query(RESERVATIONS, sku="A", first=2, after=after))["reservations"]
        ids += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert ids == made
    assert [r["id"] for r in await api.reservations(status="ACTIVE")] == made[1:]
    assert [r["id"] for r in await api.reservations(status="RELEASED")] == made[:1]
    assert [r["id"] for r in await api.reservations(reference="order-1")] == [made[1], made[3]]
    assert [r["id"] for r in await api.reservations(reference="order-0", status="ACTIVE")] == [
        made[2],
        made[4],
    ]
    assert (await api.item("A"))["reserved"] == 4


# --- channels and what they are told ----------------------------------------------------------


async def channels(api: Api) -> list[dict[str, Any]]:
    """Channels, their location ids sorted (the order they were given in is not kept)."""
    listed: list[dict[str, Any]] = (await api.query(CHANNELS))["channels"]
    return [{**c, "locationIds": sorted(c["locationIds"])} for c in listed]


async def test_channel_availability_follows_its_rule_and_per_sku_overrides(
    stockroom: Stockroom,
) -> None:
    api, wh, st = stockroom.api, stockroom.wh, stockroom.st
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=10, idempotencyKey="a-wh")
    await api.ok("receiveStock", sku="A", locationId=st, quantity=5, idempotencyKey="a-st")
    await api.ok("receiveStock", sku="B", locationId=wh, quantity=3, idempotencyKey="b-wh")

    created = await api.ok(
        "createChannel",
        name="Shop",
        kind="SHOPIFY",
        currency="USD",
        priority=5,
        locationIds=[wh, st],
        bufferQuantity=2,
        allocationPercent=50,
        maxQuantity=4,
        endWhenBelow=1,
    )
    channel = {**created["channel"], "locationIds": sorted(created["channel"]["locationIds"])}
    assert channel == {
        "id": channel["id"],
        "name": "Shop",
        "kind": "SHOPIFY",
        "currency": "USD",
        "priority": 5,
        "locationIds": channel["locationIds"],
        "bufferQuantity": 2,
        "allocationPercent": 50,
        "maxQuantity": 4,
        "endWhenBelow": 1,
    }
    assert channel["locationIds"] == sorted([wh, st])
    assert await channels(api) == [channel]

    async def availability(sku: str) -> dict[str, Any]:
        found: dict[str, Any] = (await api.query(AVAILABILITY, sku=sku, channelId=channel["id"]))[
            "channelAvailability"
        ]
        return found

    # 5 + 10 = 15, half of it 7, minus 2 is 5, capped at 4; 4 is above the end-when 1.
    assert await availability("A") == {
        "quantity": 4,
        "explanation": [
            {"step": "available at ST1", "value": 5},
            {"step": "available at WH1", "value": 10},
            {"step": "sum over the channel's locations", "value": 15},
            {"step": "allocation 50% (rounded down)", "value": 7},
            {"step": "minus safety buffer of 2 (not below 0)", "value": 5},
            {"step": "capped at the maximum of 4", "value": 4},
            {"step": "published quantity", "value": 4},
        ],
    }
    # B: 3 at WH1 and none at ST1 (no level there), half of it 1, minus 2 is 0 (not below),
    # 0 is at the end-when 1. (A location where the SKU has no level is named by its id.)
    b = await availability("B")
    assert sorted(s["value"] for s in b["explanation"][:2]) == [0, 3]
    assert {"step": "available at WH1", "value": 3} in b["explanation"][:2]
    assert {"quantity": b["quantity"], "explanation": b["explanation"][2:]} == {
        "quantity": 0,
        "explanation": [
            {"step": "sum over the channel's locations", "value": 3},
            {"step": "allocation 50% (rounded down)", "value": 1},
            {"step": "minus safety buffer of 2 (not below 0)", "value": 0},
            {"step": "at or below the end-when threshold of 1: publish 0", "value": 0},
            {"step": "published quantity", "value": 0},
        ],
    }

    # An override for A: no buffer, a higher cap; the rest stays the channel's.
    rule = await api.ok(
        "setChannelSkuRule", channelId=channel["id"], sku="A", bufferQuantity=0, maxQuantity=20
    )
    assert rule["channel"] == {"id": channel["id"], "name": "Shop"}
    assert (await availability("A"))["quantity"] == 7
    assert (await availability("B"))["quantity"] == 0

    await api.ok("setChannelSkuRule", channelId=channel["id"], sku="A", blocked=True)
    assert await availability("A") == {
        "quantity": 0,
        "explanation": [{"step": "blocked for this SKU on this channel: never listed", "value": 0}],
    }
    # The channel's own rule is untouched.
    assert await channels(api) == [channel]

    # Lifting the block with an empty override brings back the channel's rule.
    await api.ok("setChannelSkuRule", channelId=channel["id"], sku="A", blocked=False)
    assert (await availability("A"))["quantity"] == 4


async def test_channel_input_errors(stockroom: Stockroom) -> None:
    api, wh = stockroom.api, stockroom.wh
    base: dict[str, Any] = {"name": "Shop", "kind": "EBAY", "currency": "EUR", "locationIds": [wh]}
    before = await api.state("A")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"locationIds": [str(uuid.uuid4())]}, "NOT_FOUND", "locationIds"),
        ({"locationIds": ["not-an-id"]}, "NOT_FOUND", "locationIds"),
        ({"locationIds": [wh, wh]}, "INVALID_INPUT", "locationIds"),
        ({"allocationPercent": 150}, "INVALID_INPUT", "allocationPercent"),
        ({"bufferQuantity": -1}, "INVALID_INPUT", "bufferQuantity"),
        ({"currency": "euro"}, "INVALID_INPUT", "currency"),
        ({"name": " "}, "INVALID_INPUT", "name"),
    ]
    for change, code, field in cases:
        payload = await api.call("createChannel", **{**base, **change})
        assert payload["channel"] is None, change
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], change
    assert await api.state("A") == before

    channel = (await api.ok("createChannel", **base))["channel"]
    again = await api.call("createChannel", **base)
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [("ALREADY_EXISTS", "name")]
    for rule, code, field in [
        ({"channelId": channel["id"], "sku": "NOPE"}, "NOT_FOUND", "sku"),
        ({"channelId": str(uuid.uuid4()), "sku": "A"}, "NOT_FOUND", "channelId"),
        ({"channelId": "nope", "sku": "A"}, "NOT_FOUND", "channelId"),
        (
            {"channelId": channel["id"], "sku": "A", "maxQuantity": -5},
            "INVALID_INPUT",
            "maxQuantity",
        ),
    ]:
        payload = await api.call("setChannelSkuRule", **rule)
        assert payload["channel"] is None, rule
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], rule

    for sku, channel_id, field in [
        ("A", str(uuid.uuid4()), "channelId"),
        ("A", "not-an-id", "channelId"),
        ("NOPE", channel["id"], "sku"),
    ]:
        error = await api.query_error(AVAILABILITY, sku=sku, channelId=channel_id)
        assert error["extensions"] == {"code": "NOT_FOUND", "field": field}


# --- alerts -----------------------------------------------------------------------------------


async def test_alerts_are_raised_on_crossings_and_acknowledged(stockroom: Stockroom) -> None:
    api, wh = stockroom.api, stockroom.wh
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=10, idempotencyKey="in")
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=1, idempotencyKey="more")  # none
    await api.ok(
        "adjustStock", sku="A", locationId=wh, delta=-8, reason="shrinkage", idempotencyKey="adj"
    )
    await api.ok("reserveStock", sku="A", quantity=3, idempotencyKey="hold")

    alerts = await api.alerts(sku="A")
    assert [(a["kind"], a["available"], a["threshold"]) for a in alerts] == [
        ("OUT_OF_STOCK", 0, 3),
        ("LOW_STOCK", 3, 3),
        ("BACK_IN_STOCK", 10, 3),
    ]
    assert all(a["acknowledgedAt"] is None for a in alerts)
    assert (await api.item("A"))["stockState"] == "OUT"
    assert await api.alerts(sku="B") == []

    first_page = (await api.query(ALERTS, sku="A", first=2))["alerts"]
    assert [a["id"] for a in first_page["nodes"]] == [a["id"] for a in alerts[:2]]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = (await api.query(ALERTS, sku="A", first=2, after=first_page["pageInfo"]["endCursor"]))[
        "alerts"
    ]
    assert [a["id"] for a in rest["nodes"]] == [alerts[2]["id"]]
    assert rest["pageInfo"]["hasNextPage"] is False

    out = alerts[0]["id"]
    acknowledged = (await api.ok("acknowledgeAlert", alertId=out))["alert"]
    assert acknowledged["id"] == out
    assert acknowledged["kind"] == "OUT_OF_STOCK"
    assert acknowledged["acknowledgedBy"] == "test-staff"
    assert acknowledged["acknowledgedAt"] is not None
    # Acknowledging twice keeps the first acknowledgement.
    again = (await api.ok("acknowledgeAlert", alertId=out))["alert"]
    assert again == acknowledged

    assert [a["id"] for a in await api.alerts(acknowledged=True)] == [out]
    assert [a["id"] for a in await api.alerts(acknowledged=False)] == [
        alerts[1]["id"],
        alerts[2]["id"],
    ]

    for alert_id in (str(uuid.uuid4()), "42"):
        missing = await api.call("acknowledgeAlert", alertId=alert_id)
        assert missing["alert"] is None
        assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [
            ("NOT_FOUND", "alertId")
        ]


# --- bad input: a typed error, and nothing changes --------------------------------------------


@dataclass
class Loaded:
    api: Api
    wh: str
    st: str
    empty: str  # a location where A has no level
    reservation: str  # active, 4 of A at WH1
    closed: str  # a released reservation


@pytest.fixture
async def loaded(stockroom: Stockroom) -> Loaded:
    """A: WH1 on hand 10, reserved 4; ST1 on hand 2 (received with key `used`)."""
    api, wh, st = stockroom.api, stockroom.wh, stockroom.st
    empty = await api.ok("createLocation", code="DS1", name="Supplier", kind="DROPSHIP")
    await api.ok("receiveStock", sku="A", locationId=wh, quantity=10, idempotencyKey="setup-1")
    await api.ok("receiveStock", sku="A", locationId=st, quantity=2, idempotencyKey="used")
    held = await api.ok("reserveStock", sku="A", quantity=4, locationId=wh, idempotencyKey="hold")
    closed = await api.ok("reserveStock", sku="A", quantity=1, locationId=wh, idempotencyKey="h2")
    await api.ok(
        "releaseReservation", reservationId=closed["reservation"]["id"], idempotencyKey="rel"
    )
    return Loaded(
        api, wh, st, empty["location"]["id"], held["reservation"]["id"], closed["reservation"]["id"]
    )


def bad_cases(x: Loaded) -> list[tuple[str, str, dict[str, Any], str, str]]:
    """(case, mutation, input without a key, code, field)."""
    unknown = str(uuid.uuid4())
    return [
        ("unknown SKU", "receiveStock", {"sku": "NOPE", "locationId": x.wh, "quantity": 1},
         "NOT_FOUND", "sku"),
        ("unknown location", "receiveStock", {"sku": "A", "locationId": unknown, "quantity": 1},
         "NOT_FOUND", "locationId"),
        ("malformed location id", "receiveStock",
         {"sku": "A", "locationId": "WH1", "quantity": 1}, "NOT_FOUND", "locationId"),
        ("zero receive", "receiveStock", {"sku": "A", "locationId": x.wh, "quantity": 0},
         "INVALID_QUANTITY", "quantity"),
        ("negative receive", "receiveStock", {"sku": "A", "locationId": x.wh, "quantity": -5},
         "INVALID_QUANTITY", "quantity"),
        ("zero adjustment", "adjustStock",
         {"sku": "A", "locationId": x.wh, "delta": 0, "reason": "oops"},
         "INVALID_QUANTITY", "delta"),
        ("adjust unknown SKU", "adjustStock",
         {"sku": "NOPE", "locationId": x.wh, "delta": 1, "reason": "found"}, "NOT_FOUND", "sku"),
        ("adjust below reserved", "adjustStock",
         {"sku": "A", "locationId": x.wh, "delta": -7, "reason": "lost"},
         "INSUFFICIENT_STOCK", "delta"),
        ("negative count", "countStock", {"sku": "A", "locationId": x.wh, "onHand": -1},
         "INVALID_QUANTITY", "onHand"),
        ("stale expected on hand", "countStock",
         {"sku": "A", "locationId": x.wh, "onHand": 9, "expectedOnHand": 11},
         "STALE_EXPECTED_VALUE", "expectedOnHand"),
        ("count at an unknown location", "countStock",
         {"sku": "A", "locationId": unknown, "onHand": 3}, "NOT_FOUND", "locationId"),
        ("transfer to the same location", "transferStock",
         {"sku": "A", "fromLocationId": x.wh, "toLocationId": x.wh, "quantity": 1},
         "SAME_LOCATION", "toLocationId"),
        ("zero transfer", "transferStock",
         {"sku": "A", "fromLocationId": x.wh, "toLocationId": x.st, "quantity": 0},
         "INVALID_QUANTITY", "quantity"),
        ("transfer more than available", "transferStock",
         {"sku": "A", "fromLocationId": x.wh, "toLocationId": x.empty, "quantity": 7},
         "INSUFFICIENT_STOCK", "quantity"),
        ("transfer to an unknown location", "transferStock",
         {"sku": "A", "fromLocationId": x.wh, "toLocationId": unknown, "quantity": 1},
         "NOT_FOUND", "toLocationId"),
        ("transfer to a malformed id", "transferStock",
         {"sku": "A", "fromLocationId": x.wh, "toLocationId": "ST1", "quantity": 1},
         "NOT_FOUND", "toLocationId"),
        ("zero reservation", "reserveStock", {"sku": "A", "quantity": 0},
         "INVALID_QUANTITY", "quantity"),
        ("negative reservation", "reserveStock", {"sku": "A", "quantity": -2},
         "INVALID_QUANTITY", "quantity"),
        ("reserve more than any location has", "reserveStock", {"sku": "A", "quantity": 7},
         "INSUFFICIENT_STOCK", "quantity"),
        ("reserve more than the location has", "reserveStock",
         {"sku": "A", "quantity": 3, "locationId": x.st}, "INSUFFICIENT_STOCK", "quantity"),
        ("reserve where there is no level", "reserveStock",
         {"sku": "A", "quantity": 1, "locationId": x.empty}, "INSUFFICIENT_STOCK", "quantity"),
        ("reserve at an unknown location", "reserveStock",
         {"sku": "A", "quantity": 1, "locationId": unknown}, "NOT_FOUND", "locationId"),
        ("reserve an unknown SKU", "reserveStock", {"sku": "NOPE", "quantity": 1},
         "NOT_FOUND", "sku"),
        ("release an unknown reservation", "releaseReservation", {"reservationId": unknown},
         "NOT_FOUND", "reservationId"),
        ("release a malformed id", "releaseReservation", {"reservationId": "res-1"},
         "NOT_FOUND", "reservationId"),
        ("commit a released reservation", "commitReservation", {"reservationId": x.closed},
         "ILLEGAL_STATE", "reservationId"),
        ("reused key, other input", "receiveStock", {"sku": "A", "locationId": x.st, "quantity": 3},
         "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"),
        ("reused key, other operation", "adjustStock",
         {"sku": "A", "locationId": x.st, "delta": 2, "reason": "found"},
         "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"),
        ("blank key", "receiveStock", {"sku": "A", "locationId": x.st, "quantity": 1},
         "INVALID_INPUT", "idempotencyKey"),
    ]  # fmt: skip


def key_for(case: str, index: int) -> str:
    if case.startswith("reused key"):
        return "used"
    if case == "blank key":
        return "   "
    return f"bad-{index}"


async def test_bad_input_is_a_typed_error_and_changes_nothing(loaded: Loaded) -> None:
    api = loaded.api
    before = await api.state("A", "B")
    assert before["movements"] == {"A": 5, "B": 0}
    assert before["items"][0]["levels"] == [
        level(loaded.st, "ST1", 2, 0, 1),
        level(loaded.wh, "WH1", 10, 4, 4),
    ]
    cases = bad_cases(loaded)
    for index, (case, name, input, code, field) in enumerate(cases):
        body = await api.raw(name, idempotencyKey=key_for(case, index), **input)
        assert not body.get("errors"), (case, body)
        payload = body["data"][name]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], case
        assert payload["userErrors"][0]["message"], case
        result = payload.get("levels", payload.get("reservation"))
        assert result in ([], None), (case, payload)
        assert payload["replayed"] is False, case
        assert await api.state("A", "B") == before, case

    # A refused operation did not use up its key: the same key works for a valid request.
    index = next(i for i, c in enumerate(cases) if c[0] == "reserve more than any location has")
    retried = await api.ok("reserveStock", sku="A", quantity=6, idempotencyKey=f"bad-{index}")
    assert retried["replayed"] is False
    assert retried["reservation"]["quantity"] == 6
    assert (await api.item("A"))["reserved"] == 10
    assert await api.audit() == {"checkedLevels": 2, "mismatches": [], "totalMismatches": []}


async def test_count_below_reserved_is_refused(loaded: Loaded) -> None:
    api = loaded.api
    before = await api.state("A")
    payload = await api.call(
        "countStock", sku="A", locationId=loaded.wh, onHand=3, idempotencyKey="cnt"
    )
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_QUANTITY", "onHand")
    ]
    assert await api.state("A") == before


# --- idempotent replays -----------------------------------------------------------------------


async def test_replaying_a_key_returns_the_first_result(loaded: Loaded) -> None:
    api, wh, st = loaded.api, loaded.wh, loaded.st

    first = await api.ok("receiveStock", sku="A", locationId=st, quantity=5, idempotencyKey="k1")
    await api.ok("receiveStock", sku="A", locationId=st, quantity=1, idempotencyKey="k2")
    replay = await api.ok("receiveStock", sku="A", locationId=st, quantity=5, idempotencyKey="k1")
    assert replay["replayed"] is True
    assert replay["levels"] == first["levels"]  # as first left, not as now
    assert first["levels"][0]["onHand"] == 7
    assert (await api.item("A"))["levels"][0]["onHand"] == 8

    moved = await api.ok(
        "transferStock", sku="A", fromLocationId=st, toLocationId=wh, quantity=2, idempotencyKey="t"
    )
    moved_again = await api.ok(
        "transferStock", sku="A", fromLocationId=st, toLocationId=wh, quantity=2, idempotencyKey="t"
    )
    assert moved_again == {**moved, "replayed": True}

    held = await api.ok("reserveStock", sku="A", quantity=2, idempotencyKey="r")
    held_again = await api.ok("reserveStock", sku="A", quantity=2, idempotencyKey="r")
    assert held_again == {**held, "replayed": True}

    released = await api.ok(
        "releaseReservation", reservationId=held["reservation"]["id"], idempotencyKey="rel-r"
    )
    released_again = await api.ok(
        "releaseReservation", reservationId=held["reservation"]["id"], idempotencyKey="rel-r"
    )
    assert released_again == {**released, "replayed": True}
    assert released_again["reservation"]["status"] == "RELEASED"
    # The same release under a new key is a new request: the reservation is no longer active.
    fresh = await api.call(
        "releaseReservation", reservationId=held["reservation"]["id"], idempotencyKey="rel-2"
    )
    assert [(e["code"], e["field"]) for e in fresh["userErrors"]] == [
        ("ILLEGAL_STATE", "reservationId")
    ]

    # The setup's reservation: a replay of its first reserve after a commit still answers.
    committed = await api.ok(
        "commitReservation", reservationId=loaded.reservation, idempotencyKey="com"
    )
    assert committed["reservation"]["status"] == "COMMITTED"
    replayed_hold = await api.ok(
        "reserveStock", sku="A", quantity=4, locationId=wh, idempotencyKey="hold"
    )
    assert replayed_hold["replayed"] is True
    assert replayed_hold["reservation"]["id"] == loaded.reservation
    assert replayed_hold["reservation"]["status"] == "COMMITTED"

    # Each operation hit the ledger once: 5 in setup, receive x2, transfer (2 legs),
    # reserve, release, commit.
    assert len(await api.movements("A")) == 5 + 2 + 2 + 1 + 1 + 1
    assert await api.item("A") == {
        "sku": "A",
        "onHand": 8 - 2 + 2 + 10 - 4,
        "reserved": 0,
        "available": 14,
        "stockState": "IN_STOCK",
        "levels": [level(st, "ST1", 6, 0, 6), level(wh, "WH1", 8, 0, 6)],
    }
    assert await api.audit() == {"checkedLevels": 2, "mismatches": [], "totalMismatches": []}

    # With no location left holding 2, replaying the reservation of 2 still answers with it.
    await api.ok("reserveStock", sku="A", quantity=6, locationId=st, idempotencyKey="all-st")
    await api.ok("reserveStock", sku="A", quantity=7, locationId=wh, idempotencyKey="most-wh")
    late = await api.ok("reserveStock", sku="A", quantity=2, idempotencyKey="r")
    assert late == {**held, "replayed": True, "reservation": released["reservation"]}
    assert (await api.item("A"))["available"] == 1


# --- read-only keys ---------------------------------------------------------------------------


async def test_readonly_key_can_query_but_not_mutate(
    loaded: Loaded, http: httpx.AsyncClient, readonly_key: str
) -> None:
    staff, wh, st = loaded.api, loaded.wh, loaded.st
    readonly = Api(http, readonly_key)
    channel = (
        await staff.ok(
            "createChannel", name="Web", kind="WEBSTORE", currency="USD", locationIds=[wh]
        )
    )["channel"]
    alert = (await staff.alerts())[0]
    before = await staff.state("A")

    attempts: dict[str, dict[str, Any]] = {
        "createLocation": {"code": "X1", "name": "X", "kind": "STORE"},
        "createInventoryItem": {"sku": "C"},
        "receiveStock": {"sku": "A", "locationId": wh, "quantity": 1, "idempotencyKey": "ro1"},
        "adjustStock": {
            "sku": "A",
            "locationId": wh,
            "delta": -1,
            "reason": "x",
            "idempotencyKey": "ro2",
        },
        "countStock": {"sku": "A", "locationId": wh, "onHand": 5, "idempotencyKey": "ro3"},
        "transferStock": {
            "sku": "A",
            "fromLocationId": wh,
            "toLocationId": st,
            "quantity": 1,
            "idempotencyKey": "ro4",
        },
        "reserveStock": {"sku": "A", "quantity": 1, "idempotencyKey": "ro5"},
        "reserveStockLines": {"lines": [{"sku": "A", "quantity": 1}], "idempotencyKey": "ro8"},
        "releaseReservation": {"reservationId": loaded.reservation, "idempotencyKey": "ro6"},
        "commitReservation": {"reservationId": loaded.reservation, "idempotencyKey": "ro7"},
        "acknowledgeAlert": {"alertId": alert["id"]},
        "createChannel": {"name": "Sneaky", "kind": "EBAY", "currency": "USD"},
        "setChannelSkuRule": {"channelId": channel["id"], "sku": "A", "blocked": True},
    }
    assert set(attempts) == set(MUTATIONS)
    for name, input in attempts.items():
        body = await readonly.raw(name, **input)
        assert body["data"] is None, (name, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], name
    assert await staff.state("A") == before
    assert (await staff.alerts())[0]["acknowledgedAt"] is None

    # Everything can be read.
    assert await readonly.state("A") == before
    assert (await readonly.query(ITEMS, first=10))["inventoryItems"]["edges"]
    assert (await readonly.query(AVAILABILITY, sku="A", channelId=channel["id"]))[
        "channelAvailability"
    ]["quantity"] == 6
    assert await readonly.audit() == {"checkedLevels": 2, "mismatches": [], "totalMismatches": []}
