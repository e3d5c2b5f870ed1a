"""Marketplace orders in the contract's shapes become ChannelOrders with the channel's fees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.channels.ebay.orders import channel_order as ebay_order
from adapters.channels.mercadolibre.orders import channel_order as meli_order
from domain.channels.port import ChannelFee, ChannelRejected
from domain.money import Money


def meli(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": 2000003508419013,
        "status": "paid",
        "date_created": "2026-03-01T10:01:50.000-04:00",
        "date_last_updated": "2026-03-01T10:04:07.000-04:00",
        "pack_id": None,
        "buyer": {"id": 123456789, "nickname": "COMPRADOR"},
        "order_items": [
            {
                "item": {"id": "MLA1", "variation_id": 77, "seller_sku": "TS-M-RED"},
                "quantity": 2,
                "unit_price": 4999.5,
                "currency_id": "ARS",
                "sale_fee": 649.94,
            },
            {
                "item": {"id": "MLA2", "variation_id": None, "seller_sku": "CAP-1"},
                "quantity": 1,
                "unit_price": 1500,
                "currency_id": "ARS",
            },
        ],
    }
    order.update(changes)
    return order


def test_a_mercadolibre_order_carries_its_sale_fee_per_line() -> None:
    order = meli_order(meli())

    assert order.external_id == "2000003508419013"
    assert order.updated_at == datetime(2026, 3, 1, 14, 4, 7, tzinfo=UTC)
    assert [(ln.line_id, ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("MLA1:77", "TS-M-RED", 2, Money(499950, "ARS")),
        ("MLA2", "CAP-1", 1, Money(150000, "ARS")),
    ]
    # 649.94 a unit, two units; the second item's fee is not known.
    assert order.fees == (ChannelFee("sale_fee", Money(129988, "ARS"), "MLA1:77"),)
    assert order.customer["name"] == "COMPRADOR"


@pytest.mark.parametrize(
    "broken", [{"id": None}, {"date_last_updated": None, "date_created": None}, {"order_items": 3}]
)
def test_a_mercadolibre_order_without_what_it_needs_is_rejected(broken: dict[str, Any]) -> None:
    with pytest.raises(ChannelRejected):
        meli_order(meli(**broken))


def ebay(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": "05-12345-67890",
        "creationDate": "2026-03-01T10:00:00.000Z",
        "lastModifiedDate": "2026-03-01T10:05:00.000Z",
        "orderPaymentStatus": "PAID",
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "buyer": {"username": "ada_l"},
        "lineItems": [
            {
                "lineItemId": "10001",
                "sku": "TS-M-RED",
                "quantity": 3,
                "lineItemCost": {"value": "60.00", "currency": "USD"},
            }
        ],
        "totalMarketplaceFee": {"value": "7.95", "currency": "USD"},
    }
    order.update(changes)
    return order


def test_an_ebay_order_carries_its_marketplace_fee() -> None:
    order = ebay_order(ebay())

    assert (order.external_id, order.status) == ("05-12345-67890", "paid")
    assert [(ln.line_id, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("10001", 3, Money(2000, "USD"))
    ]
    assert order.fees == (ChannelFee("marketplace_fee", Money(795, "USD")),)


def test_an_ebay_order_without_a_fee_or_cancelled_says_so() -> None:
    order = ebay_order(ebay(totalMarketplaceFee=None, cancelStatus={"cancelState": "CANCELED"}))

    assert (order.fees, order.status) == ((), "cancelled")
