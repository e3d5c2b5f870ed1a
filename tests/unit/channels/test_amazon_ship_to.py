"""An Amazon order's delivery address (Orders 2026-01-01 RECIPIENT, the place only, as Amazon
gives it without a Restricted Data Token) reaches the hub in the words zone routing reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.channels.amazon.orders import channel_order, notified_order
from domain.inventory.zones import Destination, destination
from sandbox.amazon import contract
from sandbox.amazon.orders import Line, Order
from tests.unit.channels.specs import amazon_orders_errors

AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC).timestamp()
SHIP_TO = {"name": "Ana Díaz", "addressLine1": "Marienplatz 1", "city": "München",
           "stateOrRegion": "BY", "postalCode": "80331", "countryCode": "DE"}  # fmt: skip


def _order() -> Order:
    lines = [Line("11", "MUG", 1, Decimal("9.50"), "EUR")]
    return Order("114-1-1", "A1PA6795UKMFR9", "MERCHANT", AT - 60, AT, lines, ship_to=SHIP_TO)


def test_the_delivery_address_becomes_the_orders_destination() -> None:
    shown = _order().as_2026(["FULFILLMENT", "RECIPIENT"])

    order = channel_order(shown)

    assert amazon_orders_errors("SearchOrdersResponse", {"orders": [shown]}) == []
    # The person and the street stay with Amazon; the place is enough to route.
    assert shown["recipient"] == {
        "deliveryAddress": {
            "city": "München",
            "stateOrRegion": "BY",
            "postalCode": "80331",
            "countryCode": "DE",
        }
    }
    assert order.raw["shipping_address"] == {
        "city": "München", "province_code": "BY", "zip": "80331", "country": "DE"}  # fmt: skip
    assert destination(order.raw["shipping_address"]) == Destination("DE", "BY")


def test_without_recipient_included_the_order_has_no_destination() -> None:
    shown = _order().as_2026(["FULFILLMENT"])

    assert "recipient" not in shown
    assert channel_order(shown).raw["shipping_address"] == {}


def test_an_order_known_from_its_notification_goes_to_its_marketplaces_country() -> None:
    notification = _order().order_change("A2SELLER", "NewOrder", "n-1", AT)
    placeless = Order("114-1-2", "A1PA6795UKMFR9", "MERCHANT", AT - 60, AT, _order().lines)
    unknown_place = placeless.order_change("A2SELLER", "NewOrder", "n-2", AT)
    elsewhere = {**notification}
    elsewhere["Payload"] = {"OrderChangeNotification": {
        **notification["Payload"]["OrderChangeNotification"],
        "Summary": {**notification["Payload"]["OrderChangeNotification"]["Summary"],
                    "MarketplaceId": "NOT-A-MARKETPLACE"}}}  # fmt: skip

    order = notified_order(notification)

    contract.check_document(contract.ORDER_CHANGE_SCHEMA, notification, "ORDER_CHANGE")
    contract.check_document(contract.ORDER_CHANGE_SCHEMA, unknown_place, "ORDER_CHANGE")
    assert order.raw["shipping_address"] == {"country": "DE", "zip": "80331"}
    assert destination(order.raw["shipping_address"]) == Destination("DE")
    assert notified_order(unknown_place).raw["shipping_address"] == {"country": "DE"}
    assert notified_order(elsewhere).raw["shipping_address"] == {}
