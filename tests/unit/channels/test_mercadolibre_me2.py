"""A cart whose ME2 shipment MercadoLibre shipped carries the parcel the hub records (its
tracking), delivered once MercadoLibre tracked it home; ME1 and a parcel not yet gone carry
none. A `shipments` pointer asks for the orders' pull, as `orders_v2` does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.channels.mercadolibre import notifications
from adapters.channels.mercadolibre.orders import cart_order
from domain.channels.port import ChannelParcel, InboundKind
from sandbox.mercadolibre.orders import Order, Shipment

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _cart(mode: str, status: str) -> ChannelParcel | None:
    order = Order(2000001, None, "MLA1", None, "MUG", "Camp Mug", 1, Decimal("950"), "ARS",
                  3000001, "buyer_one", AT, AT, delivered=status == "delivered")  # fmt: skip
    shipment = Shipment(3000001, mode, [order.id], AT, AT, status=status)
    return cart_order([order.shown()], shipment.shown()).shipped_by_channel


def test_an_me2_parcel_mercadolibre_shipped_is_the_carts_with_its_tracking() -> None:
    assert _cart("me2", "shipped") == ChannelParcel("MEL Distribution", "ME23000001")
    assert _cart("me2", "delivered") == ChannelParcel(
        "MEL Distribution", "ME23000001", delivered=True
    )


@pytest.mark.parametrize(("mode", "status"), [("me2", "ready_to_ship"), ("me1", "shipped")])
def test_no_parcel_before_it_leaves_or_when_the_seller_ships(mode: str, status: str) -> None:
    assert _cart(mode, status) is None


def test_a_shipments_pointer_asks_for_the_orders() -> None:
    pointer = {"_id": "n-1", "resource": "/shipments/3000001", "topic": "shipments",
               "user_id": 123456789, "application_id": 4242424242, "attempts": 1}  # fmt: skip
    event = notifications.parse({}, json.dumps(pointer).encode())
    assert (event.event_id, event.kind) == ("n-1", InboundKind.ORDER)
