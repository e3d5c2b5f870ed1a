"""An eBay order's shipping address, as the Fulfillment API shows it, reaches the hub's order
in the words zone routing reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.channels.ebay.orders import channel_order
from domain.inventory.zones import Destination, destination
from sandbox.ebay import spec
from sandbox.ebay.orders import Line, Order

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
SHIP_TO = {"addressLine1": "Marienplatz 1", "city": "München", "stateOrProvince": "BY",
           "postalCode": "80331", "countryCode": "DE"}  # fmt: skip


def _shown(ship_to: dict[str, str] | None) -> dict[str, object]:
    line = Line("1001", "MUG", 1, Decimal("9.50"), "EUR", "110001", "Camp Mug")
    return Order("12-00001-00002", AT, AT, [line], "buyer_one", ship_to=ship_to).shown()


def test_the_ship_to_address_becomes_the_orders_destination() -> None:
    shown = _shown(SHIP_TO)

    order = channel_order(shown)

    assert spec.response_errors("GET", "/sell/fulfillment/v1/order/12-00001-00002", 200,
                                shown) == []  # fmt: skip
    assert order.raw["shipping_address"] == {
        "line1": "Marienplatz 1", "city": "München", "province_code": "BY", "zip": "80331",
        "country": "DE",
    }  # fmt: skip
    address = order.raw["shipping_address"]
    assert isinstance(address, dict)
    assert destination(address) == Destination("DE", "BY")


def test_an_order_without_fulfillment_instructions_has_no_destination() -> None:
    order = channel_order(_shown(None))

    assert order.raw["shipping_address"] == {}
    assert destination({}) is None
