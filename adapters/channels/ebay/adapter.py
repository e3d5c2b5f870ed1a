"""One eBay seller account as the sync engine's `ChannelPort`, over the Sell APIs.

Contract (channel-contracts §3): listings are inventory items, a group for a product with
options, and offers, published (see `listings`); stock and prices go through
`bulk_update_price_quantity`, 25 SKUs a call, whose 207 answer says per SKU what happened;
a listing is revised at most 250 times a day (see `revisions`); orders are read with getOrders
by `lastmodifieddate`, paged by offset; a shipment is a `shipping_fulfillment`; a line the hub
cannot fill is refunded (eBay has no cancellation of one line: a seller refunds it).

eBay has no compare-and-set on quantities. When the channel's edits are accepted, the push
reads the SKUs' figures first (bulkGetInventoryItem, one call per 25) and refuses as stale
those that moved from what the hub last confirmed: the read that follows finds the edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import quote

from adapters.channel_kit.calls import chunks
from adapters.channel_kit.change_cursor import ChangeCursor
from adapters.channel_kit.timestamps import parse_time
from adapters.channels.ebay import notifications, traffic
from adapters.channels.ebay.client import FULFILLMENT, INVENTORY, NOTIFICATION, EbayClient
from adapters.channels.ebay.errors import SYSTEM_ERROR, describe, entries, error_ids
from adapters.channels.ebay.listings import Listings
from adapters.channels.ebay.mapping import amount
from adapters.channels.ebay.orders import channel_order
from adapters.channels.ebay.revisions import Revisions
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import (
    DEFAULT_VIEWS_LOOK_BACK_DAYS,
    Capability,
    ChannelFailure,
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
from domain.clock import utcnow
from domain.errors import InvalidInput
from domain.money import Money

PER_CALL: Final = 25  # bulk_update_price_quantity and bulkGetInventoryItem
ORDERS_PER_PAGE: Final = 200
REFUND_REASON: Final = "SELLER_CANCEL"  # "a seller might cancel ... if an item is out of stock"
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


class EbayChannel:
    capabilities = CAPABILITIES
    # The traffic report is refreshed about daily (its lastUpdatedDate): the default covers it.
    views_look_back_days = DEFAULT_VIEWS_LOOK_BACK_DAYS

    def __init__(
        self,
        client: EbayClient,
        revisions: Revisions,
        *,
        verification_token: str,
        notification_endpoint: str | None = None,
        check_edits: bool = False,
    ) -> None:
        self._client = client
        self._listings = Listings(client)
        self._revisions = revisions
        self._verification_token = verification_token
        self._endpoint = notification_endpoint
        self._check_edits = check_edits

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

    # Stock and prices

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        results: list[KeyResult] = []
        for chunk in chunks(updates, PER_CALL):
            stale = await self._moved(chunk) if self._check_edits else {}
            requests = {
                u.sku: {"sku": u.sku, "shipToLocationAvailability": {"quantity": u.quantity}}
                for u in chunk
                if u.sku not in stale
            }
            sent = await self._revise(chunk, requests)
            confirmed = {u.sku: u.quantity for u in chunk}
            results += [stale[u.sku] for u in chunk if u.sku in stale]
            results += [_with_quantity(r, confirmed) for r in sent]
        return results

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        results: list[KeyResult] = []
        for chunk in chunks(updates, PER_CALL):
            requests: dict[str, dict[str, Any]] = {}
            for update in chunk:
                offer_id = update.refs.get("offer_id")
                if not offer_id:
                    results.append(_rejected(update.sku, "no eBay offer id: list it first"))
                    continue
                offer = {"offerId": offer_id, "price": amount(update.price)}
                requests[update.sku] = {"sku": update.sku, "offers": [offer]}
            sent = await self._revise(chunk, requests)
            prices = {u.sku: u.price for u in chunk}
            results += [
                KeyResult(r.sku, r.outcome, r.message, confirmed_price=prices[r.sku])
                if r.outcome is Outcome.CONFIRMED else r
                for r in sent
            ]  # fmt: skip
        return results

    async def _revise(
        self, chunk: Sequence[QuantityUpdate | PriceUpdate], requests: dict[str, dict[str, Any]]
    ) -> list[KeyResult]:
        """Send the requests whose listing has a revision left; defer the others."""
        results: list[KeyResult] = []
        lowers: dict[str, bool] = {}  # by listing: whether any of its requests lowers a quantity
        for update in chunk:
            listing = update.refs.get("listing_id")
            if update.sku in requests and listing:
                lowers[listing] = lowers.get(listing, False) or _lowers(update)
        waits = {
            listing: await self._revisions.take(listing, lowers=lowering)
            for listing, lowering in lowers.items()
        }
        sending = []
        for update in chunk:
            if update.sku not in requests:
                continue
            wait = waits.get(update.refs.get("listing_id") or "", 0.0)
            if wait > 0:
                spent = "the listing's revisions for now are spent"
                results.append(KeyResult(update.sku, Outcome.DEFERRED, spent, retry_after=wait))
            else:
                sending.append(requests[update.sku])
        if sending:
            results += await self._bulk_update(sending)
        return results

    async def _bulk_update(self, requests: list[dict[str, Any]]) -> list[KeyResult]:
        answer = await self._client.call(
            "POST", INVENTORY, "/bulk_update_price_quantity", body={"requests": requests},
            operation="bulkUpdatePriceQuantity",
        )  # fmt: skip
        responses = answer.body.get("responses") if isinstance(answer.body, dict) else None
        if not isinstance(responses, list):
            raise ChannelUnavailable("eBay's bulk_update_price_quantity answer has no responses")
        by_sku: dict[str, list[dict[str, Any]]] = {}
        for response in responses:
            if isinstance(response, dict) and response.get("sku"):
                by_sku.setdefault(str(response["sku"]), []).append(response)
        results = []
        for request in requests:
            found = by_sku.get(request["sku"], [])
            failed = [r for r in found if r.get("statusCode") not in (200, 204)]
            if not found or any(_retryable(r) for r in failed):
                continue  # unanswered: the relay retries this SKU alone
            if failed:
                message = describe([e for r in failed for e in entries(r)])
                results.append(_rejected(request["sku"], message))
            else:
                results.append(KeyResult(request["sku"], Outcome.CONFIRMED))
        return results

    async def _moved(self, chunk: Sequence[QuantityUpdate]) -> dict[str, KeyResult]:
        """The SKUs whose figure on eBay is not what the hub last confirmed (STALE)."""
        checked = [u for u in chunk if u.previous is not None]
        if not checked:
            return {}
        shown = await self._quantities([u.sku for u in checked])
        return {
            u.sku: KeyResult(u.sku, Outcome.STALE, f"eBay shows {shown[u.sku]}, not {u.previous}")
            for u in checked
            if u.sku in shown and shown[u.sku] != u.previous
        }

    async def _quantities(self, skus: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks(skus, PER_CALL):
            answer = await self._client.call(
                "POST", INVENTORY, "/bulk_get_inventory_item",
                body={"requests": [{"sku": sku} for sku in chunk]},
                operation="bulkGetInventoryItem",
            )  # fmt: skip
            for response in (answer.body or {}).get("responses") or []:
                item = response.get("inventoryItem") if isinstance(response, dict) else None
                quantity = _dig(item, "availability", "shipToLocationAvailability", "quantity")
                if isinstance(quantity, int):
                    found[str(response.get("sku"))] = quantity
        return found

    # Views (the Analytics API's traffic report)

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        return await traffic.read_views(self._client, refs, day)

    # Reconciliation

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        """Each SKU's buyable quantity (min of the item's and its offer's) and its price."""
        shown = await self._quantities(list(refs))
        levels = []
        for sku, ids in refs.items():
            quantity, price = shown.get(sku), None
            if ids.get("offer_id"):
                answer = await self._client.call(
                    "GET", INVENTORY, f"/offer/{quote(ids['offer_id'], safe='')}",
                    operation="getOffer", passes=(404,),
                )  # fmt: skip
                offer = answer.body if answer.status == 200 else None
                price = _money(_dig(offer, "pricingSummary", "price"))
                limit = _dig(offer, "availableQuantity")
                if isinstance(limit, int) and quantity is not None:
                    quantity = min(quantity, limit)
            levels.append(ChannelLevel(sku, quantity, price))
        return levels

    # Orders

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders modified since the cursor's time, a page of up to 200 at a time.

        A pass asks for `lastmodifieddate:[T..]` and pages by offset; when it ends, the next
        pass starts at the latest lastModifiedDate it saw, skipping the orders at exactly
        that time it already returned.
        """
        position = ChangeCursor.decode(cursor, "eBay")
        params = {"limit": str(ORDERS_PER_PAGE), "offset": str(position.offset)}
        if position.since:
            params["filter"] = f"lastmodifieddate:[{position.since}..]"
        answer = await self._client.call(
            "GET", FULFILLMENT, "/order", params=params, operation="getOrders"
        )
        found = answer.body.get("orders") if isinstance(answer.body, dict) else None
        if not isinstance(found, list):
            raise ChannelUnavailable("eBay's getOrders answer has no orders")
        orders = []
        last, last_ids = position.last, set(position.last_ids)
        for raw in sorted(found, key=lambda o: str(o.get("lastModifiedDate", ""))):
            order = channel_order(raw)
            stamp = str(raw["lastModifiedDate"])
            if position.since == stamp and order.external_id in position.skip:
                continue
            orders.append(order)
            if last is None or _later(stamp, last):
                last, last_ids = stamp, {order.external_id}
            elif stamp == last:
                last_ids.add(order.external_id)
        more = bool(answer.body.get("next"))
        seen = tuple(sorted(last_ids))
        if more:  # the pass goes on: the next page of the same filter
            offset = position.offset + ORDERS_PER_PAGE
            following = ChangeCursor(position.since, position.skip, offset, last, seen)
        else:  # the pass is over: the next starts at the latest change seen
            following = ChangeCursor(last or position.since, seen, 0, last, seen)
        return OrderPage(tuple(orders), following.encode())

    # Shipments

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        """A shipping fulfillment with the lines, carrier and tracking number; a 409 (this
        tracking number already shipped this order: an earlier try whose answer was lost)
        is that fulfillment."""
        order_id = _order_id(shipment.order_refs)
        lines = list(shipment.lines) or await self._unshipped(order_id)
        body = {
            "lineItems": [{"lineItemId": line, "quantity": q} for line, q in lines],
            "shippedDate": _now(),
            "shippingCarrierCode": shipment.carrier,
            "trackingNumber": shipment.tracking_number,
        }
        path = f"/order/{quote(order_id, safe='')}/shipping_fulfillment"
        answer = await self._client.call(
            "POST", FULFILLMENT, path, body=body, operation="createShippingFulfillment",
            passes=(409,),
        )  # fmt: skip
        if answer.status == 201:
            location = answer.headers.get("location", "")
            return location.rstrip("/").rsplit("/", 1)[-1] or shipment.tracking_number
        done = await self._client.call("GET", FULFILLMENT, path,
                                       operation="getShippingFulfillments")  # fmt: skip
        for fulfillment in (done.body or {}).get("fulfillments") or []:
            if fulfillment.get("shipmentTrackingNumber") == shipment.tracking_number:
                return str(fulfillment.get("fulfillmentId"))
        raise ChannelRejected(f"eBay refused the shipment: {describe(entries(answer.body))}")

    async def _unshipped(self, order_id: str) -> list[tuple[str, int]]:
        order = await self._order(order_id)
        return [(str(ln["lineItemId"]), int(ln["quantity"])) for ln in order.get("lineItems", [])
                if ln.get("lineItemFulfillmentStatus") != "FULFILLED"]  # fmt: skip

    async def _order(self, order_id: str) -> dict[str, Any]:
        answer = await self._client.call(
            "GET", FULFILLMENT, f"/order/{quote(order_id, safe='')}", operation="getOrder"
        )
        if not isinstance(answer.body, dict):
            raise ChannelUnavailable("eBay's getOrder answer is not an order")
        return answer.body

    # Cancellations

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        """Refund each line not refunded yet: what is left of it will not ship."""
        order_id = _order_id(notice.order_refs)
        order = await self._order(order_id)
        by_id = {str(ln.get("lineItemId")): ln for ln in order.get("lineItems") or []}
        items = []
        for line_id in notice.lines:
            line = by_id.get(line_id)
            if line is None:
                raise ChannelRejected(f"eBay's order {order_id} has no line {line_id}")
            if line.get("refunds"):
                continue  # refunded already: a repeat
            items.append({"lineItemId": line_id, "refundAmount": line.get("lineItemCost")})
        if not items:
            return
        body = {"reasonForRefund": REFUND_REASON, "comment": notice.reason[:100],
                "refundItems": items}  # fmt: skip
        await self._client.call(
            "POST", FULFILLMENT, f"/order/{quote(order_id, safe='')}/issue_refund", body=body,
            operation="issueRefund",
        )  # fmt: skip

    # Notifications

    async def fetch_signing_key(self, headers: Mapping[str, str]) -> None:
        signed = notifications.signature(headers)
        origin = self._client.origin
        if signed is None or notifications.KEYS.known(origin, signed.kid):
            return
        try:
            answer = await self._client.call(
                "GET", NOTIFICATION, f"/public_key/{quote(signed.kid, safe='')}",
                operation="getPublicKey", passes=(400, 404),
            )  # fmt: skip
        except ChannelFailure:
            return  # not known: the notification is refused, and eBay sends it again
        key = answer.body.get("key") if answer.status == 200 and answer.body else None
        notifications.KEYS.keep(origin, signed.kid, key if isinstance(key, str) else None)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        signed = notifications.signature(headers)
        if signed is None:
            return False
        key = notifications.KEYS.get(self._client.origin, signed.kid)
        return key is not None and notifications.verify(key, signed, body)

    def sent_at(self, headers: Mapping[str, str], body: bytes) -> datetime | None:
        return notifications.published_at(body)

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return None  # eBay's headers name neither the topic nor the notification

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        return notifications.parse(body)

    def answer_challenge(self, query: Mapping[str, str], endpoint: str) -> Mapping[str, str] | None:
        code = query.get("challenge_code")
        if not code or not self._verification_token:
            return None
        return notifications.challenge_answer(
            code, self._verification_token, self._endpoint or endpoint
        )


def _later(first: str, second: str) -> bool:
    a, b = parse_time(first), parse_time(second)
    return a is not None and b is not None and a > b


def _order_id(refs: Mapping[str, str]) -> str:
    order_id = refs.get("order_id")
    if not order_id:
        raise ChannelRejected("no eBay order id (order_refs['order_id'])")
    return order_id


def _now() -> str:
    moment = utcnow()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _lowers(update: QuantityUpdate | PriceUpdate) -> bool:
    """Whether the update lowers the quantity eBay shows (or may: none confirmed yet)."""
    if not isinstance(update, QuantityUpdate):
        return False
    return update.previous is None or update.quantity < update.previous


def _retryable(response: dict[str, Any]) -> bool:
    status = response.get("statusCode")
    return (isinstance(status, int) and status >= 500) or SYSTEM_ERROR in error_ids(
        entries(response)
    )


def _with_quantity(result: KeyResult, sent: Mapping[str, int]) -> KeyResult:
    if result.outcome is not Outcome.CONFIRMED:
        return result
    return KeyResult(result.sku, result.outcome, confirmed_quantity=sent[result.sku])


def _rejected(sku: str, message: str) -> KeyResult:
    return KeyResult(sku, Outcome.REJECTED, message)


def _money(value: Any) -> Money | None:
    if not isinstance(value, dict):
        return None
    try:
        return Money.parse(str(value.get("value")), str(value.get("currency")))
    except InvalidInput:  # a figure eBay shows that Nexo cannot read is unknown
        return None


def _dig(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node
