"""An eBay order (Sell Fulfillment API) as the hub's `ChannelOrder`, with eBay's fees.

Contract (channel-contracts §3, Sell Fulfillment 1.20.7 `Order`): `{orderId, creationDate,
lastModifiedDate, orderPaymentStatus, cancelStatus{cancelState}, buyer{username},
lineItems[{lineItemId, sku, quantity, lineItemCost{value, currency}}], totalMarketplaceFee
{value, currency}}`. `lineItemCost` is the unit price times the quantity; the unit price is
kept when it divides evenly. `totalMarketplaceFee` is "the cumulative fees accrued for the
order and deducted from the seller payout": one fee for the whole order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.channel_kit.addresses import in_hub_words
from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine, ChannelRejected
from domain.errors import InvalidInput
from domain.money import Money

MARKETPLACE_FEE: Final = "marketplace_fee"


def channel_order(order: Mapping[str, Any]) -> ChannelOrder:
    """The Order resource as a ChannelOrder; ChannelRejected names what a bad one lacks."""
    order_id = order.get("orderId")
    updated_at = parse_time(order.get("lastModifiedDate"))
    if not order_id or updated_at is None:
        raise ChannelRejected("eBay order without orderId or lastModifiedDate")
    items = order.get("lineItems")
    if not isinstance(items, list):
        raise ChannelRejected(f"eBay order {order_id} has no lineItems list")
    lines = []
    for n, item in enumerate(items):
        quantity = item.get("quantity") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not item.get("lineItemId"):
            raise ChannelRejected(f"eBay order {order_id}: lineItems[{n}] has no lineItemId")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ChannelRejected(f"eBay order {order_id}: lineItems[{n}].quantity")
        cost = _money(item.get("lineItemCost"))
        unit = None
        if cost is not None and quantity > 0 and cost.minor % quantity == 0:
            unit = Money(cost.minor // quantity, cost.currency)
        lines.append(ChannelOrderLine(str(item["lineItemId"]), item.get("sku"), quantity, unit))
    fee = _money(order.get("totalMarketplaceFee"))
    buyer = order.get("buyer")
    if not isinstance(buyer, Mapping):
        buyer = {}
    return ChannelOrder(
        external_id=str(order_id),
        number=str(order.get("salesRecordReference") or order_id),
        updated_at=updated_at,
        placed_at=parse_time(order.get("creationDate")),
        status=_status(order),
        lines=tuple(lines),
        customer={"name": buyer.get("username")},
        raw={**order, "shipping_address": _ship_to(order)},
        fees=(ChannelFee(MARKETPLACE_FEE, fee),) if fee is not None else (),
    )


# eBay's Address fields -> the hub's address words (what zones and customer matching read).
ADDRESS_WORDS: Final = {
    "addressLine1": "line1", "addressLine2": "line2", "city": "city",
    "stateOrProvince": "province_code", "postalCode": "zip", "countryCode": "country",
}  # fmt: skip


def _ship_to(order: Mapping[str, Any]) -> dict[str, str]:
    """The first shipping step's address, in the hub's address words (empty when none)."""
    steps = order.get("fulfillmentStartInstructions")
    first = steps[0] if isinstance(steps, list) and steps else None
    return in_hub_words(_dig(first, "shippingStep", "shipTo", "contactAddress"), ADDRESS_WORDS)


def _dig(node: object, *path: str) -> object:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _status(order: Mapping[str, Any]) -> str:
    cancel = order.get("cancelStatus")
    if isinstance(cancel, Mapping) and cancel.get("cancelState") == "CANCELED":
        return "cancelled"
    payment = str(order.get("orderPaymentStatus") or "PAID").lower()
    return "pending" if payment == "pending" else payment


def _money(amount: object) -> Money | None:
    """An eBay Amount `{value: "12.50", currency: "USD"}`; None when absent or unreadable."""
    if not isinstance(amount, Mapping):
        return None
    value, currency = amount.get("value"), amount.get("currency")
    if not isinstance(value, str) or not isinstance(currency, str):
        return None
    try:
        return Money.parse(value, currency)
    except InvalidInput:
        return None
