"""Pick, pack, ship over GraphQL: bins set on levels, a pick list that batches two channels'
orders by SKU and walks the bins in order, lines picked then packed (published on
orderEvents), one parcel for both orders with one tracking number, its packing slip; and
every step out of order refused with a typed error, nothing changed and the attempt logged."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from domain.orders.events import ORDER_TOPIC
from tests.api.test_orders_api import ADDRESS, M_RED, S_RED, Shop, make_shop
from tests.graphql import gql

ERRORS = "userErrors { field message code }"
LINES = "lines { id sku quantity status stage location { code } }"
SET_BIN = f"""
mutation($input: SetBinInput!) {{
  setBin(input: $input) {{ level {{ sku bin onHand location {{ code }} }} {ERRORS} }}
}}"""
PICK_LIST = """
query($locationId: ID!, $orderIds: [ID!], $first: Int) {
  pickList(locationId: $locationId, orderIds: $orderIds, first: $first) {
    orderIds slots { sku bin quantity lines { orderId orderNumber lineId quantity } }
  }
}"""
MARK_PICKED = f"""
mutation($input: MarkLinesInput!) {{
  markPicked(input: $input) {{ orders {{ id status {LINES} }} {ERRORS} }}
}}"""
MARK_PACKED = MARK_PICKED.replace("markPicked", "markPacked")
SHIP_PARCEL = f"""
mutation($input: ShipParcelInput!) {{
  shipParcel(input: $input) {{
    parcelId orders {{ id status {LINES} }}
    shipments {{ id parcelId trackingNumber lines {{ lineId quantity }} }}
    {ERRORS}
  }}
}}"""
CREATE_SHIPMENT = f"""
mutation($input: CreateShipmentInput!) {{ createShipment(input: $input) {{ {ERRORS} }} }}"""
ORDER = f"""
query($id: ID!) {{ order(id: $id) {{ id status updatedAt {LINES} transitions {{ reason }} }} }}"""


@pytest.fixture
async def shop(http: Any, staff_key: str, container: Any) -> Shop:
    return await make_shop(http, staff_key, container)


async def order(shop: Shop, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await shop.run(ORDER, id=order_id))["order"]
    return found


def errors(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


def refusals(caplog: pytest.LogCaptureFixture, action: str) -> list[list[dict[str, Any]]]:
    return [
        getattr(r, "refusals", [])
        for r in caplog.records
        if r.getMessage() == "order.refused" and getattr(r, "action", None) == action
    ]


async def next_events(shop: Shop, count: int, act: Any) -> list[Mapping[str, Any]]:
    """The next `count` order events published after `act()` ran."""
    bus = shop.container.bus
    async with bus.subscribe(ORDER_TOPIC) as subscription:
        await bus.wait_subscribed(ORDER_TOPIC)
        await act()
        got: list[Mapping[str, Any]] = []
        async with asyncio.timeout(5):
            async for event in subscription:
                got.append(event)
                if len(got) == count:
                    return got
    return got


async def test_two_channels_orders_are_picked_by_bin_packed_and_shipped_in_one_parcel(
    shop: Shop,
) -> None:
    for sku, bin in ((S_RED, "A-10"), (M_RED, "A-2")):
        body = await shop.run(SET_BIN, input={"sku": sku, "locationId": shop.wh, "bin": bin})
        assert body["setBin"] == {
            "level": {"sku": sku, "bin": bin, "onHand": 5 if sku == S_RED else 3,
                      "location": {"code": "WH1"}},
            "userErrors": [],
        }  # fmt: skip
    web = await shop.placed("cart-pp", [(S_RED, 2), (M_RED, 1)], number="W-1")
    market_id = await shop.take(shop.market, "mk-1", [(S_RED, 1)], name="Ada <b>Lovelace</b>")
    market = await order(shop, market_id)
    [w_s, w_m], [m_s] = [ln["id"] for ln in web["lines"]], [ln["id"] for ln in market["lines"]]

    # One slot per SKU, walked A-2 before A-10; the market order was placed first.
    listed = (await shop.run(PICK_LIST, locationId=shop.wh, first=10))["pickList"]
    assert listed["orderIds"] == [market_id, web["id"]]
    assert [(s["sku"], s["bin"], s["quantity"], [(ln["lineId"], ln["quantity"]) for ln in
             s["lines"]]) for s in listed["slots"]] == [
        (M_RED, "A-2", 1, [(w_m, 1)]),
        (S_RED, "A-10", 3, [(m_s, 1), (w_s, 2)]),
    ]  # fmt: skip
    only_web = (await shop.run(PICK_LIST, locationId=shop.wh, orderIds=[web["id"]]))["pickList"]
    assert [s["quantity"] for s in only_web["slots"]] == [1, 2]

    async def pick() -> None:
        body = await shop.run(MARK_PICKED, input={"locationId": shop.wh,
                                                  "lineIds": [w_s, w_m, m_s]})  # fmt: skip
        assert body["markPicked"]["userErrors"] == []
        stages = [ln["stage"] for o in body["markPicked"]["orders"] for ln in o["lines"]]
        assert stages == ["PICKED", "PICKED", "PICKED"]

    events = await next_events(shop, 2, pick)
    assert sorted((e["kind"], e["orderId"]) for e in events) == sorted(
        [("picked", web["id"]), ("picked", market_id)]
    )
    assert (await shop.run(PICK_LIST, locationId=shop.wh))["pickList"]["slots"] == []
    body = await shop.run(MARK_PACKED, input={"locationId": shop.wh, "lineIds": [w_s, w_m, m_s]})
    assert body["markPacked"]["userErrors"] == []

    parcel = {"locationId": shop.wh, "carrier": "UPS", "trackingNumber": "1Z-PARCEL",
              "idempotencyKey": "parcel-1", "orders": [{"orderId": market_id},
                                                       {"orderId": web["id"]}]}  # fmt: skip
    shipped = (await shop.run(SHIP_PARCEL, input=parcel))["shipParcel"]
    assert shipped["userErrors"] == []
    assert [o["status"] for o in shipped["orders"]] == ["SHIPPED", "SHIPPED"]
    assert [(s["parcelId"], s["trackingNumber"], sorted(ln["lineId"] for ln in s["lines"]))
            for s in shipped["shipments"]] == [
        (shipped["parcelId"], "1Z-PARCEL", [m_s]),
        (shipped["parcelId"], "1Z-PARCEL", sorted([w_s, w_m])),
    ]  # fmt: skip
    after = [await shop.levels(S_RED), await shop.levels(M_RED)]
    assert after == [
        {"onHand": 6, "reserved": 0, "available": 6},
        {"onHand": 2, "reserved": 0, "available": 2},
    ]
    again = (await shop.run(SHIP_PARCEL, input=parcel))["shipParcel"]  # a retry: one parcel
    assert (again["parcelId"], again["userErrors"]) == (shipped["parcelId"], [])
    assert [await shop.levels(S_RED), await shop.levels(M_RED)] == after

    slip = await shop.http.get(
        f"/packing-slips/{shipped['parcelId']}.html",
        headers={"Authorization": f"Bearer {shop.key}"},
    )
    assert slip.status_code == 200
    assert slip.headers["content-type"].startswith("text/html")
    for shown in ("W-1", "#mk-1", "1Z-PARCEL", "A-2", "A-10", ADDRESS["city"], "2 order(s), 4"):
        assert shown in slip.text
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in slip.text
    assert "<b>" not in slip.text
    by_shipment = await shop.http.get(
        f"/packing-slips/{shipped['shipments'][1]['id']}.html",
        headers={"Authorization": f"Bearer {shop.key}"},
    )
    assert by_shipment.text == slip.text  # a grouped shipment's slip is its parcel's
    as_answered = await shop.http.get(  # the parcel's id as the API answers it
        f"/packing-slips/gid://nexo/Parcel/{shipped['parcelId']}.html",
        headers={"Authorization": f"Bearer {shop.key}"},
    )
    assert as_answered.text == slip.text
    assert (await shop.http.get(f"/packing-slips/{shipped['parcelId']}.html")).status_code == 401
    unknown = await shop.http.get(
        f"/packing-slips/{uuid.uuid4()}.html", headers={"Authorization": f"Bearer {shop.key}"}
    )
    assert unknown.status_code == 404


async def test_steps_out_of_order_are_refused_change_nothing_and_are_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    web = await shop.placed("cart-bad", [(S_RED, 1), (M_RED, 1)], number="W-2")
    line, other = web["lines"][0]["id"], web["lines"][1]["id"]
    unknown = str(uuid.uuid4())

    async def mark(document: str, location: str, lines: list[str]) -> list[tuple[str, str]]:
        body = await shop.run(document, input={"locationId": location, "lineIds": lines})
        return errors(next(iter(body.values())))

    before = await order(shop, web["id"])
    assert await mark(MARK_PACKED, shop.wh, [line]) == [("lineIds[0]", "ILLEGAL_STATE")]
    assert await mark(MARK_PICKED, shop.st, [line]) == [("lineIds[0]", "ILLEGAL_STATE")]
    assert await mark(MARK_PICKED, shop.wh, [other, unknown, other]) == [
        ("lineIds[1]", "NOT_FOUND"), ("lineIds[2]", "INVALID_INPUT"),
    ]  # fmt: skip
    assert await order(shop, web["id"]) == before  # all or none: `other` is not picked either
    assert [r[0]["code"] for r in refusals(caplog, "markPacked")] == ["ILLEGAL_STATE"]
    assert len(refusals(caplog, "markPicked")) == 2

    assert await mark(MARK_PICKED, shop.wh, [line]) == []
    picked = await order(shop, web["id"])
    assert await mark(MARK_PICKED, shop.wh, [line]) == []  # again: nothing changes
    assert await order(shop, web["id"]) == picked
    assert [ln["stage"] for ln in picked["lines"]] == ["PICKED", None]

    ship = {"orderId": web["id"], "lineIds": [line], "carrier": "UPS", "trackingNumber": "1Z-9",
            "idempotencyKey": "ship-bad"}  # fmt: skip
    unpacked = await shop.run(CREATE_SHIPMENT, input={**ship, "locationId": shop.wh})
    elsewhere = await shop.run(CREATE_SHIPMENT, input={**ship, "locationId": shop.st})
    assert errors(unpacked["createShipment"]) == [("lineIds[0]", "ILLEGAL_STATE")]
    assert errors(elsewhere["createShipment"]) == [("locationId", "ILLEGAL_STATE")]
    assert "picked at another location" in elsewhere["createShipment"]["userErrors"][0]["message"]
    assert [r[0]["field"] for r in refusals(caplog, "createShipment")] == [
        "lineIds[0]", "locationId",
    ]  # fmt: skip
    assert await order(shop, web["id"]) == picked
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 1, "available": 8}

    # A parcel has one label: an order going elsewhere refuses the parcel, nothing ships.
    away = await shop.take(shop.market, "mk-away", [(M_RED, 1)],
                           address={"line1": "9 Elm St", "city": "Shelbyville"})  # fmt: skip
    parcel = {"locationId": shop.wh, "carrier": "UPS", "trackingNumber": "1Z-10",
              "idempotencyKey": "parcel-bad", "orders": [{"orderId": web["id"]},
                                                         {"orderId": away}]}  # fmt: skip
    body = (await shop.run(SHIP_PARCEL, input=parcel))["shipParcel"]
    assert errors(body) == [("orders[1].orderId", "INVALID_INPUT")]
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 2, "available": 1}

    bins = [
        ({"sku": S_RED, "locationId": shop.wh, "bin": "x" * 33}, ("bin", "INVALID_INPUT")),
        ({"sku": S_RED, "locationId": shop.wh, "bin": "-A1"}, ("bin", "INVALID_INPUT")),
        ({"sku": "NOPE", "locationId": shop.wh, "bin": "A1"}, ("sku", "NOT_FOUND")),
        ({"sku": S_RED, "locationId": unknown, "bin": "A1"}, ("locationId", "NOT_FOUND")),
    ]
    for input, error in bins:
        assert errors((await shop.run(SET_BIN, input=input))["setBin"]) == [error]
    both = await gql(shop.http, PICK_LIST, {"locationId": shop.wh, "orderIds": [web["id"]],
                                            "first": 5}, key=shop.key)  # fmt: skip
    assert both["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}
