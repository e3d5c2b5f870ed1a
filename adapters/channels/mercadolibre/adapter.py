"""One MercadoLibre seller account as the sync engine's `ChannelPort`.

Contract (channel-contracts §4):
- listings: see `listings` (classic items with variations, or User Products);
- stock: a classic item's `PUT /items/{id}` — with variations, EVERY variation the item has
  is named by id on every update (an omitted id is deleted): the item is read first (a
  multiget, 20 items a call) and the variations not being set go as `{id}` alone. A User
  Products SKU's stock is its user product's: read with its `x-version`, then `PUT
  /user-products/{id}/stock/type/selling_address` carrying it (a 409 — moved meanwhile — is
  read and tried once more). When the channel's edits are accepted, a figure that moved from
  what the hub last confirmed is refused as STALE, and the read that follows finds the edit;
- prices: the item's (one for all its variations: a batch asking two prices for one classic
  item is refused for its SKUs), or each User Products item's own;
- orders: see `pull` (carts by pack, hour-truncated filters); a shipment is told to an ME1
  shipment (`seller_notifications`, with its tracking number; each parcel names its units in
  the comment), while an ME2 shipment is MercadoLibre's own and only read; a line the hub
  cannot fill is the MercadoLibre order it is (one item each), cancelled by the seller's
  feedback `fulfilled: false` (~ reason SELLER_OUT_OF_STOCK);
- notifications: unsigned pointers, see `notifications`;
- views: each item's visits per day (`ListingViews`), see `visits`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any, Final, TypeVar
from urllib.parse import quote

from adapters.channel_kit.calls import chunks
from adapters.channels.mercadolibre import notifications, pull, visits
from adapters.channels.mercadolibre.client import MeliClient
from adapters.channels.mercadolibre.items import ItemReader
from adapters.channels.mercadolibre.listings import Listings
from adapters.channels.mercadolibre.mapping import number
from adapters.channels.mercadolibre.orders import order_of_line
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import (
    Capability,
    ChannelLevel,
    ChannelLimits,
    ChannelRejected,
    ChannelUnavailable,
    InboundEvent,
    InboundIdentity,
    KeyResult,
    LineCancelNotice,
    ListingRefs,
    OrderPage,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)
from domain.clock import Clock, utcnow
from domain.errors import InvalidInput
from domain.money import Money

T = TypeVar("T")

# SKUs a push takes: MercadoLibre's calls are per item (a PUT each), so a batch is only the
# relay's unit; a large one lets its items be read by as few multigets as can be (20 a call).
PER_CALL: Final = 400
# Items' PUTs of one push in flight at once: each is its own call, paced by the account's
# bucket; a few at a time keep that pace when each call takes longer than its share of it.
IN_FLIGHT: Final = 2
# User products' stock writes of one push in flight at once: each a read and a write in turn,
# paced by the stock resource's own bucket.
UP_IN_FLIGHT: Final = 4
SELLING_ADDRESS: Final = "selling_address"
UNFILLED: Final = "SELLER_OUT_OF_STOCK"
CAPABILITIES: Final = frozenset(
    {
        Capability.LISTINGS,
        Capability.QUANTITIES,
        Capability.PRICES,
        Capability.ORDERS_PUSH,
        Capability.ORDERS_PULL,
        Capability.FULFILMENT,
        Capability.CANCELLATION,
    }
)


class MeliChannel:
    capabilities = CAPABILITIES
    # Visits are counted up to 48-72 h late: three days back are read again.
    views_look_back_days = 3

    def __init__(
        self,
        client: MeliClient,
        *,
        seller_id: str,
        application_id: str,
        check_edits: bool = False,
        clock: Clock = utcnow,
    ) -> None:
        self._client = client
        self._items = ItemReader(client)
        self._listings = Listings(client, self._items, seller_id)
        self._seller = seller_id
        self._application = application_id
        self._check_edits = check_edits
        self._clock = clock

    @property
    def limits(self) -> ChannelLimits:
        return ChannelLimits(quantities_per_call=PER_CALL, prices_per_call=PER_CALL)

    # Listings

    async def upsert_listing(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        return await self._listings.upsert(draft, requests, known)

    async def end_listing(self, refs: ListingRefs) -> None:
        await self._listings.end(refs)

    # Stock

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        results: list[KeyResult] = []
        family = [u for u in updates if u.refs.get("user_product_id")]
        classic = [u for u in updates if not u.refs.get("user_product_id")]
        results += await at_most(UP_IN_FLIGHT, [partial(self._set_up_stock, u) for u in family])
        for chunk in chunks(classic, PER_CALL):
            results += await self._set_item_stock(chunk)
        return results

    async def _set_item_stock(self, chunk: Sequence[QuantityUpdate]) -> list[KeyResult]:
        results: list[KeyResult] = []
        by_item: dict[str, list[QuantityUpdate]] = {}
        for update in chunk:
            item_id = update.refs.get("item_id")
            if not item_id:
                results.append(_rejected(update.sku, "no MercadoLibre item id: list it first"))
                continue
            by_item.setdefault(item_id, []).append(update)
        items = {str(i["id"]): i for i in await self._items.many(list(by_item))}
        puts = [partial(self._put_stock, item_id, items.get(item_id), wanted)
                for item_id, wanted in by_item.items()]  # fmt: skip
        for found in await at_most(IN_FLIGHT, puts):
            results += found
        return results

    async def _put_stock(
        self, item_id: str, item: dict[str, Any] | None, wanted: list[QuantityUpdate]
    ) -> list[KeyResult]:
        """One item's PUT of the quantities `wanted` (every variation named)."""
        if item is None:
            return [_rejected(u.sku, f"MercadoLibre has no item {item_id}") for u in wanted]
        results: list[KeyResult] = []
        shown = _quantities(item)
        sending: list[QuantityUpdate] = []
        for update in wanted:
            key = update.refs.get("variation_id") or ""
            if key not in shown:
                results.append(_rejected(update.sku, f"item {item_id} has no variation "
                                         f"{key}: list it again"))  # fmt: skip
            elif self._check_edits and update.previous not in (None, shown[key]):
                results.append(KeyResult(update.sku, Outcome.STALE,
                                         f"MercadoLibre shows {shown[key]}, not "
                                         f"{update.previous}"))  # fmt: skip
            else:
                sending.append(update)
        if not sending:
            return results
        body = stock_body(item, {u.refs.get("variation_id") or "": u.quantity for u in sending})
        try:
            await self._client.call("PUT", f"/items/{quote(item_id, safe='')}", body=body,
                                    operation="updateItemStock")  # fmt: skip
        except ChannelRejected as refused:
            return results + [_rejected(u.sku, refused.message) for u in sending]
        return results + [KeyResult(u.sku, Outcome.CONFIRMED, confirmed_quantity=u.quantity)
                          for u in sending]  # fmt: skip

    async def _set_up_stock(self, update: QuantityUpdate) -> KeyResult:
        up = quote(update.refs["user_product_id"], safe="")
        for attempt in range(2):
            answer = await self._client.call(
                "GET", f"/user-products/{up}/stock", operation="getUserProductStock",
                up_stock=True,
            )  # fmt: skip
            version = answer.headers.get("x-version")
            held = _location(answer.body, SELLING_ADDRESS)
            if not version:
                raise ChannelUnavailable("MercadoLibre's stock answer has no x-version")
            if self._check_edits and update.previous not in (None, held):
                return KeyResult(update.sku, Outcome.STALE,
                                 f"MercadoLibre shows {held}, not {update.previous}")  # fmt: skip
            put = await self._client.call(
                "PUT", f"/user-products/{up}/stock/type/{SELLING_ADDRESS}",
                body={"quantity": update.quantity}, headers={"x-version": version},
                operation="updateUserProductStock", passes=(409,) if attempt == 0 else (),
                up_stock=True,
            )  # fmt: skip
            if put.status != 409:
                return KeyResult(update.sku, Outcome.CONFIRMED, confirmed_quantity=update.quantity)
        raise ChannelUnavailable("MercadoLibre's user product stock kept moving")  # unreachable

    # Prices

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        results: list[KeyResult] = []
        by_item: dict[str, list[PriceUpdate]] = {}
        for update in updates:
            item_id = update.refs.get("item_id")
            if not item_id:
                results.append(_rejected(update.sku, "no MercadoLibre item id: list it first"))
            else:
                by_item.setdefault(item_id, []).append(update)
        classic = [i for i, us in by_item.items() if any(u.refs.get("variation_id") for u in us)]
        items = {str(i["id"]): i for i in await self._items.many(classic)} if classic else {}
        for item_id, wanted in by_item.items():
            prices = {u.price for u in wanted}
            if len(prices) > 1:
                said = "MercadoLibre variations share one price; these SKUs' prices differ"
                results += [_rejected(u.sku, said) for u in wanted]
                continue
            price = next(iter(prices))
            body: dict[str, Any] = {"price": number(price)}
            if item_id in items:
                variations = items[item_id].get("variations") or []
                body = {"variations": [{"id": v["id"], "price": number(price)} for v in variations]}
            try:
                await self._client.call("PUT", f"/items/{quote(item_id, safe='')}", body=body,
                                        operation="updateItemPrice")  # fmt: skip
            except ChannelRejected as refused:
                results += [_rejected(u.sku, refused.message) for u in wanted]
                continue
            results += [KeyResult(u.sku, Outcome.CONFIRMED, confirmed_price=u.price)
                        for u in wanted]  # fmt: skip
        return results

    # Views (the Visits resource: see `visits`)

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        return await visits.read_views(self._client, refs, day, self._clock().date())

    # Reconciliation

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        ids = [r["item_id"] for r in refs.values() if r.get("item_id")]
        items = {str(i["id"]): i for i in await self._items.many(ids)}
        levels = []
        for sku, ref in refs.items():
            item = items.get(ref.get("item_id") or "")
            if item is None:
                levels.append(ChannelLevel(sku, None, None))
                continue
            node: Mapping[str, Any] = item
            if ref.get("variation_id"):
                node = next((v for v in item.get("variations") or []
                             if str(v.get("id")) == ref["variation_id"]), {})  # fmt: skip
            quantity = node.get("available_quantity")
            price = _money(node.get("price", item.get("price")), item.get("currency_id"))
            shown = (
                quantity if isinstance(quantity, int) and item.get("status") == "active" else None
            )
            levels.append(ChannelLevel(sku, shown if node else None, price))
        return levels

    # Orders

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        return await pull.fetch_orders(self._client, self._seller, cursor)

    async def _cart(self, cart_id: str) -> list[dict[str, Any]]:
        """The MercadoLibre orders of one of the hub's orders (a pack, or one order)."""
        answer = await self._client.call("GET", f"/orders/{quote(cart_id, safe='')}",
                                         operation="getOrder", passes=(404,))  # fmt: skip
        if answer.status == 200 and isinstance(answer.body, dict):
            return [answer.body]
        return await pull.pack_orders(self._client, cart_id, {})

    # Shipments

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        """Tell each ME1 shipment of the parcel's orders that it left, with its tracking
        number and the units it holds; an ME2 shipment is MercadoLibre's: only its id."""
        cart = _cart_id(shipment.order_refs)
        units: dict[str, int] = {}
        for line_id, quantity in shipment.lines:
            order_id = order_of_line(line_id)
            units[order_id] = units.get(order_id, 0) + quantity
        orders = {str(o["id"]): o for o in await self._cart(cart)}
        if not units:
            units = {i: sum(int(x.get("quantity") or 0) for x in o.get("order_items") or [])
                     for i, o in orders.items()}  # fmt: skip
        by_shipment: dict[str, list[str]] = {}
        for order_id in units:
            order = orders.get(order_id)
            shipping = order.get("shipping") if order else None
            if not isinstance(shipping, dict) or not shipping.get("id"):
                raise ChannelRejected(f"MercadoLibre's order {order_id} has no shipment")
            by_shipment.setdefault(str(shipping["id"]), []).append(order_id)
        told = []
        for shipment_id, order_ids in by_shipment.items():
            told.append(await self._tell(shipment_id, shipment, {o: units[o] for o in order_ids}))
        return ",".join(told)

    async def _tell(self, shipment_id: str, notice: ShipmentNotice, units: dict[str, int]) -> str:
        path = f"/shipments/{quote(shipment_id, safe='')}"
        found = await self._client.call("GET", path, operation="getShipment")
        mode = found.body.get("mode") if isinstance(found.body, dict) else None
        if mode != "me1":
            return shipment_id  # ME2: MercadoLibre labels, ships and tracks it
        named = ", ".join(f"{order}x{count}" for order, count in units.items())
        body = {
            "payload": {"comment": f"{notice.carrier} units: {named}",
                        "date": self._clock().isoformat(timespec="milliseconds")},
            "tracking_number": notice.tracking_number,
            "tracking_url": notice.tracking_url or "",
            "status": "shipped",
        }  # fmt: skip
        await self._client.call("POST", f"{path}/seller_notifications", body=body,
                                operation="notifyShipment")  # fmt: skip
        return f"{shipment_id}/{notice.tracking_number}"

    # Cancellations

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        """Each line's order cancelled by the seller's feedback (one item per order); an
        order cancelled already is left as it is."""
        for order_id in sorted({order_of_line(line) for line in notice.lines}):
            order = await pull.read_order(self._client, order_id)
            if order.get("status") == "cancelled":
                continue
            body = {"fulfilled": False, "rating": "neutral", "reason": UNFILLED,
                    "message": notice.reason[:160]}  # fmt: skip
            answer = await self._client.call(
                "POST", f"/orders/{quote(order_id, safe='')}/feedback", body=body,
                operation="cancelOrder", passes=(400,),
            )  # fmt: skip
            if answer.status == 400:
                again = await pull.read_order(self._client, order_id)
                if again.get("status") != "cancelled":
                    raise ChannelRejected(f"MercadoLibre refused to cancel order {order_id}: "
                                          f"{answer.body}")  # fmt: skip

    # Notifications

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return notifications.is_ours(body, self._seller, self._application)

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return None  # the headers say nothing: the pointer is in the body

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        return notifications.parse(headers, body)


def stock_body(item: Mapping[str, Any], wanted: Mapping[str, int]) -> dict[str, Any]:
    """The PUT setting the quantities `wanted` (by variation id; "" for an item without
    variations): EVERY variation of the item is named, the others by their id alone, since
    MercadoLibre deletes a variation a PUT leaves out."""
    variations = item.get("variations") or []
    if not variations:
        return {"available_quantity": wanted[""]}
    return {"variations": [
        {"id": v["id"], "available_quantity": wanted[str(v["id"])]}
        if str(v["id"]) in wanted else {"id": v["id"]}
        for v in variations
    ]}  # fmt: skip


def _quantities(item: Mapping[str, Any]) -> dict[str, int]:
    """The item's quantities by variation id ("" for the item without variations)."""
    variations = item.get("variations") or []
    if not variations:
        return {"": int(item.get("available_quantity") or 0)}
    return {str(v["id"]): int(v.get("available_quantity") or 0) for v in variations}


def _location(body: Any, kind: str) -> int:
    for location in (body or {}).get("locations") or []:
        if isinstance(location, dict) and location.get("type") == kind:
            return int(location.get("quantity") or 0)
    return 0


def _cart_id(refs: Mapping[str, str]) -> str:
    cart = refs.get("order_id")
    if not cart:
        raise ChannelRejected("no MercadoLibre order id (order_refs['order_id'])")
    return cart


def _money(value: Any, currency: Any) -> Money | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not isinstance(currency, str)
    ):
        return None
    try:
        return Money.parse(f"{value}", currency)
    except InvalidInput:
        return None


def _rejected(sku: str, message: str) -> KeyResult:
    return KeyResult(sku, Outcome.REJECTED, message)


async def at_most(limit: int, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """The calls' results in order, at most `limit` running at once; the first failure
    stops the others and is raised as itself."""
    gate = asyncio.Semaphore(limit)

    async def gated(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(gated(call)) for call in calls]
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [task.result() for task in tasks]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found
