"""A MercadoLibre order as the hub's `ChannelOrder`, with the fees MercadoLibre charges.

Contract (channel-contracts §4): `GET /orders/{id}` (and each of `/orders/search`'s results)
is `{id, status paid|cancelled…, date_created, date_last_updated, pack_id, shipping{id},
buyer{id, nickname}, order_items[{item{id, variation_id, seller_sku}, quantity, unit_price,
currency_id, sale_fee}]}`. `sale_fee` is MercadoLibre's commission for one unit of the item,
beside `unit_price`: the line's fee is it times the quantity, rounded to the currency's
minor unit.

A cart of several items is several orders sharing `pack_id`, paid together and shipped as
one group: the hub takes the cart as ONE order (`cart_order`), whose id is the pack's and
whose lines are its orders' items, each line named `ORDER_ID/ITEM_ID[:VARIATION_ID]` so that
a line's shipment or cancellation reaches the MercadoLibre order it belongs to. An order
outside a pack is a cart of one (its id the order's). A cart whose orders all carry the tag
`delivered` (MercadoLibre tracked their ME2 shipment to the buyer) is `delivered`: the hub
moves a shipped order on to delivered. An ME2 shipment MercadoLibre has shipped is the cart's
`shipped_by_channel`: the hub records it shipped with MercadoLibre's tracking (the merchant
creates no shipment for it), and delivered when it arrived. The cart's one shipment (`GET
/shipments/{id}`) says where it goes: its `receiver_address` is the hub's shipping address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from adapters.channel_kit.addresses import in_hub_words
from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import (
    ChannelFee,
    ChannelOrder,
    ChannelOrderLine,
    ChannelParcel,
    ChannelRejected,
)
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


CANCELLED: Final = frozenset({"cancelled", "invalid"})
ME2_SHIPPED: Final = frozenset({"shipped", "delivered", "not_delivered"})  # it left
ME2_CARRIER: Final = "Mercado Envios"
UNPAID: Final = frozenset({"payment_required", "payment_in_process"})


# A shipment's receiver_address -> the hub's address words (state.id is ISO 3166-2: "AR-C").
ADDRESS_PATHS: Final = {
    ("address_line",): "line1", ("city", "name"): "city", ("state", "id"): "province_code",
    ("zip_code",): "zip", ("country", "id"): "country",
}  # fmt: skip


def ship_to(shipment: object) -> dict[str, str]:
    """Where `GET /shipments/{id}` says the cart goes, in the hub's words (empty when unsaid)."""
    address = shipment.get("receiver_address") if isinstance(shipment, Mapping) else None
    flat = {ours: _dig(address, *path) for path, ours in ADDRESS_PATHS.items()}
    return in_hub_words(flat, {ours: ours for ours in ADDRESS_PATHS.values()})


def _dig(node: object, *path: str) -> object:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def cart_order(
    orders: Sequence[Mapping[str, Any]], shipment: Mapping[str, Any] | None = None
) -> ChannelOrder:
    """The orders of one pack (or one order alone), shipped as `shipment` says, as the hub's
    one order."""
    if not orders:
        raise ChannelRejected("a MercadoLibre cart of no orders")
    taken = [channel_order(order) for order in orders]
    pack = orders[0].get("pack_id")
    cart_id = str(pack) if pack else taken[0].external_id
    lines, fees = [], []
    for order in taken:
        named = {ln.line_id: f"{order.external_id}/{ln.line_id}" for ln in order.lines}
        lines += [replace(ln, line_id=named[ln.line_id]) for ln in order.lines]
        fees += [replace(f, line_id=named.get(f.line_id or "", f.line_id)) for f in order.fees]
    statuses = {order.status for order in taken}
    live = [raw for raw, order in zip(orders, taken, strict=True) if order.status not in CANCELLED]
    if statuses <= CANCELLED:
        status = "cancelled"
    elif statuses & UNPAID:
        status = "pending"
    elif all("delivered" in (raw.get("tags") or ()) for raw in live):
        status = "delivered"  # MercadoLibre tracked the parcel (ME2) to the buyer
    else:
        status = "paid"
    placed = [order.placed_at for order in taken if order.placed_at is not None]
    return ChannelOrder(
        external_id=cart_id,
        number=cart_id,
        updated_at=max(order.updated_at for order in taken),
        placed_at=min(placed) if placed else None,
        status=status,
        lines=tuple(lines),
        customer=taken[0].customer,
        raw={
            "pack_id": pack,
            "orders": [dict(order) for order in orders],
            "shipping_address": ship_to(shipment),
        },
        fees=tuple(fees),
        shipped_by_channel=me2_parcel(shipment, delivered=status == "delivered"),
    )


def me2_parcel(shipment: Mapping[str, Any] | None, *, delivered: bool) -> ChannelParcel | None:
    """The cart's ME2 shipment once MercadoLibre shipped it, as the hub records it (its
    tracking method the carrier, its tracking number, or the shipment's id when it shows
    none); None for ME1 (the seller ships and tells) or a parcel not yet shipped."""
    if not shipment or shipment.get("mode") != "me2":
        return None
    status = shipment.get("status")
    if status not in ME2_SHIPPED:
        return None
    carrier = str(shipment.get("tracking_method") or ME2_CARRIER)
    tracking = str(shipment.get("tracking_number") or f"ME2-{shipment.get('id')}")
    return ChannelParcel(carrier, tracking, delivered=delivered or status == "delivered")


def order_of_line(line_id: str) -> str:
    """The MercadoLibre order a cart's line belongs to."""
    order_id, _, item = line_id.partition("/")
    if not order_id or not item:
        raise ChannelRejected(f"not a MercadoLibre cart line: {line_id!r}")
    return order_id
