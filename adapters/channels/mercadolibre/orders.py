"""A MercadoLibre order as the hub's `ChannelOrder`, with the fees MercadoLibre charges.

Contract (channel-contracts §4): `GET /orders/{id}` (and each of `/orders/search`'s results)
is `{id, status paid|cancelled…, date_created, date_last_updated, pack_id, shipping{id},
buyer{id, nickname}, order_items[{item{id, variation_id, seller_sku}, quantity, unit_price,
currency_id, sale_fee}]}`. `sale_fee` is MercadoLibre's commission for one unit of the item,
beside `unit_price`: the line's fee is it times the quantity, rounded to the currency's
minor unit. A cart of several items is several orders sharing `pack_id`; each is its own
order in the hub, as on MercadoLibre.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine, ChannelRejected
from domain.money import CURRENCY_EXPONENTS, Money, to_minor

SALE_FEE: Final = "sale_fee"


def channel_order(order: Mapping[str, Any]) -> ChannelOrder:
    """The order resource as a ChannelOrder; ChannelRejected names what a bad one lacks."""
    order_id = order.get("id")
    updated_at = parse_time(order.get("date_last_updated")) or parse_time(order.get("date_created"))
    if not order_id or updated_at is None:
        raise ChannelRejected("MercadoLibre order without id or date_last_updated")
    items = order.get("order_items")
    if not isinstance(items, list):
        raise ChannelRejected(f"MercadoLibre order {order_id} has no order_items list")
    lines: list[ChannelOrderLine] = []
    fees: list[ChannelFee] = []
    for n, entry in enumerate(items):
        item = entry.get("item") if isinstance(entry, Mapping) else None
        if not isinstance(item, Mapping) or not item.get("id"):
            raise ChannelRejected(f"MercadoLibre order {order_id}: order_items[{n}] has no item")
        variation = item.get("variation_id")
        line_id = f"{item['id']}:{variation}" if variation else str(item["id"])
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ChannelRejected(f"MercadoLibre order {order_id}: order_items[{n}].quantity")
        currency = entry.get("currency_id") or order.get("currency_id")
        lines.append(
            ChannelOrderLine(
                line_id=line_id,
                sku=item.get("seller_sku") or None,
                quantity=quantity,
                unit_price=_amount(entry.get("unit_price"), currency, 1),
            )
        )
        fee = _amount(entry.get("sale_fee"), currency, quantity)
        if fee is not None:
            fees.append(ChannelFee(SALE_FEE, fee, line_id))
    buyer = order.get("buyer")
    if not isinstance(buyer, Mapping):
        buyer = {}
    name = " ".join(str(buyer[k]) for k in ("first_name", "last_name") if buyer.get(k))
    return ChannelOrder(
        external_id=str(order_id),
        number=str(order_id),
        updated_at=updated_at,
        placed_at=parse_time(order.get("date_created")),
        status=str(order.get("status") or "paid"),
        lines=tuple(lines),
        customer={
            "id": str(buyer["id"]) if buyer.get("id") else None,
            "name": name or buyer.get("nickname"),
        },
        raw=dict(order),
        fees=tuple(fees),
    )


def _amount(value: object, currency: object, times: int) -> Money | None:
    """`value` times `times` in `currency`, to the minor unit; None when absent or unreadable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        return None
    try:
        amount = Decimal(str(value)) * times
    except InvalidOperation:
        return None
    return Money(to_minor(amount, currency), currency) if amount.is_finite() else None

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
