"""Reading the seller's orders by `date_last_updated`, whole carts at a time.

`GET /orders/search?seller=&order.date_last_updated.from=&sort=date_asc&limit=50&offset=`
compares hours: the minutes and seconds of a filter are ignored (~). So a pass asks from the
HOUR of the latest change it knows (never with a `to`, which would cut off the current
hour), reads every page, and keeps what changed at or after that change, skipping the orders
at exactly that time it already returned: nothing is missed at an hour boundary, and an order
read again is one the hub already has (it takes only newer versions).

An order of a pack brings its whole cart: the pack's other orders are read too (`GET
/packs/{id}`, then each order not on the page), and the cart is one order for the hub (see
`orders.cart_order`). Each cart's shipment is read once (`GET /shipments/{id}`) for where
it goes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from adapters.channel_kit.change_cursor import ChangeCursor
from adapters.channel_kit.timestamps import parse_time
from adapters.channels.mercadolibre.client import MeliClient
from adapters.channels.mercadolibre.orders import cart_order
from domain.channels.port import ChannelOrder, ChannelRejected, ChannelUnavailable, OrderPage

PER_PAGE: Final = 50


def hour_of(stamp: str) -> str:
    moment = parse_time(stamp)
    if moment is None:
        raise ChannelRejected(f"not a MercadoLibre time: {stamp!r}")
    return moment.replace(minute=0, second=0, microsecond=0).isoformat(timespec="milliseconds")


async def fetch_orders(client: MeliClient, seller: str, cursor: str | None) -> OrderPage:
    position = ChangeCursor.decode(cursor, "MercadoLibre")
    params = {"seller": seller, "sort": "date_asc", "limit": str(PER_PAGE),
              "offset": str(position.offset)}  # fmt: skip
    if position.since:
        params["order.date_last_updated.from"] = hour_of(position.since)
    answer = await client.call("GET", "/orders/search", params=params, operation="searchOrders")
    body = answer.body if isinstance(answer.body, dict) else {}
    results, paging = body.get("results"), body.get("paging")
    if not isinstance(results, list) or not isinstance(paging, dict):
        raise ChannelUnavailable("MercadoLibre's orders search answer has no results")
    since = parse_time(position.since) if position.since else None
    last, last_ids = position.last, set(position.last_ids)
    fresh: list[dict[str, Any]] = []
    for raw in results:
        stamp = raw.get("date_last_updated") if isinstance(raw, dict) else None
        moment = parse_time(stamp)
        if moment is None or not raw.get("id"):
            raise ChannelRejected("MercadoLibre order without id or date_last_updated")
        if since is not None and (
            moment < since or (moment == since and str(raw["id"]) in position.skip)
        ):
            continue  # before the pass's time (the hour's start), or returned already
        fresh.append(raw)
        latest = parse_time(last) if last else None
        if latest is None or moment > latest:
            last, last_ids = str(stamp), {str(raw["id"])}
        elif moment == latest:
            last_ids.add(str(raw["id"]))
    orders = await _carts(client, fresh)
    total = paging.get("total")
    total = total if isinstance(total, int) else 0
    seen = tuple(sorted(last_ids))
    if position.offset + len(results) < total and results:  # the pass goes on
        following = ChangeCursor(position.since, position.skip, position.offset + len(results),
                                last, seen)  # fmt: skip
    else:  # the pass is over: the next starts at the latest change seen
        following = ChangeCursor(last or position.since, seen, 0, last, seen)
    return OrderPage(tuple(sorted(orders, key=_when)), following.encode())


def _when(order: ChannelOrder) -> datetime:
    return order.updated_at


async def _carts(client: MeliClient, fresh: list[dict[str, Any]]) -> list[ChannelOrder]:
    """Each order alone, and each pack with all its orders, as the hub's orders."""
    known = {str(o["id"]): o for o in fresh}
    carts: list[ChannelOrder] = []
    packs: dict[str, list[dict[str, Any]]] = {}
    for raw in fresh:
        if raw.get("pack_id"):
            packs.setdefault(str(raw["pack_id"]), []).append(raw)
        else:
            carts.append(cart_order([raw], await shipment_of(client, raw)))
    for pack_id in packs:
        orders = await pack_orders(client, pack_id, known)
        carts.append(cart_order(orders, await shipment_of(client, orders[0])))
    return carts


async def shipment_of(client: MeliClient, order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's shipment (a pack's orders share one); None when it has none or it is gone."""
    shipping = order.get("shipping")
    shipment_id = shipping.get("id") if isinstance(shipping, dict) else None
    if not shipment_id:
        return None
    answer = await client.call("GET", f"/shipments/{quote(str(shipment_id), safe='')}",
                               operation="getShipment", passes=(404,))  # fmt: skip
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


async def pack_orders(
    client: MeliClient, pack_id: str, known: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every order of the pack, read where `known` lacks it."""
    answer = await client.call("GET", f"/packs/{quote(pack_id, safe='')}", operation="getPack")
    listed = answer.body.get("orders") if isinstance(answer.body, dict) else None
    if not isinstance(listed, list) or not listed:
        raise ChannelUnavailable(f"MercadoLibre's pack {pack_id} lists no orders")
    orders = []
    for entry in listed:
        order_id = str(entry.get("id")) if isinstance(entry, dict) else ""
        found = known.get(order_id) or await read_order(client, order_id)
        orders.append(found)
    return orders


async def read_order(client: MeliClient, order_id: str) -> dict[str, Any]:
    answer = await client.call("GET", f"/orders/{quote(order_id, safe='')}",
                               operation="getOrder")  # fmt: skip
    if not isinstance(answer.body, dict) or not answer.body.get("id"):
        raise ChannelUnavailable(f"MercadoLibre's order {order_id} answer is not an order")
    return answer.body
