"""A MercadoLibre cart's shipment (`GET /shipments/{id}`, its receiver_address) says where the
hub's order goes, in the words zone routing reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.channels.mercadolibre.orders import cart_order
from domain.inventory.zones import Destination, destination
from sandbox.mercadolibre.orders import Order, Shipment

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
RECEIVER = {"address_line": "Av. Corrientes 1234", "street_name": "Av. Corrientes",
            "street_number": "1234", "zip_code": "C1043", "receiver_name": "Ana Díaz",
            "city": {"id": "TUxBQ0NBUGZlZG1sYQ", "name": "Capital Federal"},
            "state": {"id": "AR-C", "name": "Capital Federal"},
            "country": {"id": "AR", "name": "Argentina"}}  # fmt: skip


def _sale(receiver: dict[str, object] | None) -> tuple[dict[str, object], dict[str, object]]:
    order = Order(2000001, None, "MLA1", None, "MUG", "Camp Mug", 1, Decimal("950"), "ARS",
                  3000001, "buyer_one", AT, AT)  # fmt: skip
    shipment = Shipment(3000001, "me2", [order.id], AT, AT, receiver_address=receiver)
    return order.shown(), shipment.shown()


def test_the_receiver_address_becomes_the_carts_destination() -> None:
    order, shipment = _sale(RECEIVER)

    cart = cart_order([order], shipment)

    assert cart.raw["shipping_address"] == {
        "line1": "Av. Corrientes 1234", "city": "Capital Federal", "province_code": "AR-C",
        "zip": "C1043", "country": "AR",
    }  # fmt: skip
    assert destination(cart.raw["shipping_address"]) == Destination("AR", "C")


def test_a_cart_without_a_shipment_or_receiver_has_no_destination() -> None:
    order, shipment = _sale(None)

    assert "receiver_address" not in shipment
    assert cart_order([order], shipment).raw["shipping_address"] == {}
    assert cart_order([order]).raw["shipping_address"] == {}
