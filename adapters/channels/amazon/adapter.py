"""One Amazon seller account in one marketplace as the sync engine's `ChannelPort`.

Contract (channel-contracts §2): listings are `putListingsItem` per SKU (a variation family:
its parent, then each child), confirmed once Amazon shows the attributes sent (ACCEPTED only
queues them; INVALID's issues reject the listing, attribute by attribute); stock and prices go
through `stock` (PATCH, or one JSON_LISTINGS_FEED for many SKUs); orders are read from Orders
2026-01-01 by `lastUpdatedAfter`, and arrive as ORDER_CHANGE notifications from the seller's
queue (`notifications`); a shipment is Orders v0 `shipmentConfirmation`; a line the hub cannot
fill is cancelled by an order acknowledgement feed (POST_ORDER_ACKNOWLEDGEMENT_DATA, status
Failure, per item). The hub's ids: a listing is its parent SKU (or its one SKU); a SKU is
itself (`{"sku": sku}`); an order is its AmazonOrderId, a line its OrderItemId.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import quote
from xml.sax.saxutils import escape

from adapters.channel_kit.timestamps import parse_time
from adapters.channels.amazon import notifications
from adapters.channels.amazon.client import AmazonClient
from adapters.channels.amazon.fba import fba_stock
from adapters.channels.amazon.feeds import FeedPolls, FeedSender
from adapters.channels.amazon.orders import channel_order
from adapters.channels.amazon.stock import Stock, issues_text, price_of, quantity_of
from adapters.channels.amazon.views import ReportReader
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import (
    Capability,
    ChannelLevel,
    ChannelLimits,
    ChannelOrder,
    ChannelRejected,
    ChannelUnavailable,
    InboundEvent,
    InboundIdentity,
    InboundKind,
    KeyResult,
    LineCancelNotice,
    ListingRefs,
    OrderPage,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)

CAPABILITIES: Final = frozenset(
    {
        Capability.LISTINGS,
        Capability.QUANTITIES,
        Capability.PRICES,
        Capability.ORDERS_PUSH,
        Capability.ORDERS_PULL,
        Capability.FULFILMENT,
        Capability.CANCELLATION,
        Capability.CHANNEL_MANAGED_STOCK,
    }
)
# From this many SKUs in one call, stock and prices go as one feed (createFeed allows one call
# every two minutes after a burst of 15: a feed is worth it only for many SKUs).
FEED_THRESHOLD: Final = 500
# A feed takes 25,000 messages; a call carries at most this many, and the relay has up to
# FEEDS_IN_FLIGHT calls out at once: Amazon processes a seller's feeds one after another, so
# while it processes one feed the hub claims, reads and uploads the next, and records the
# last one's report (a 20,000-SKU push is six feeds, the first two smaller so processing
# starts sooner: well within createFeed's burst of 15).
MAX_FEED_MESSAGES: Final = 5_000
FEEDS_IN_FLIGHT: Final = 4
# Reads of what Amazon accepted until it shows it applied (seconds waited before each).
APPLY_WAITS: Final = (1.0, 2.0, 4.0, 8.0)
# Polls of a feed's processing: getFeed's documented rate (2 a second) while it is processed,
# every 2 s while it waits behind earlier feeds, for 90 s; then the relay sends it again.
FEED_POLLS: Final = FeedPolls(running=0.5, queued=2.0, give_up=90.0)
ORDERS_PER_PAGE: Final = 100
FIRST_PULL: Final = timedelta(days=30)
CARRIER_CODES: Final = frozenset({"UPS", "USPS", "FedEx", "DHL", "DHL eCommerce", "OnTrac",
                                  "Amazon Shipping", "Canada Post", "Royal Mail"})  # fmt: skip
ORDERS_V0: Final = "/orders/v0/orders"


class AmazonChannel:
    capabilities = CAPABILITIES
    # Sales and traffic figures can settle up to 72 h late. A read of 4 days asks 4 reports
    # (createReport and getReportDocument: 1 a minute after a burst of 15) an hour at most,
    # within the burst; the client's limiter waits for a token rather than exceed it.
    views_look_back_days = 3

    def __init__(
        self,
        client: AmazonClient,
        feeds: FeedSender,
        reports: ReportReader,
        *,
        marketplace_id: str,
        product_type: str,
        pause: Callable[[float], Awaitable[None]],
        feed_threshold: int = FEED_THRESHOLD,
        apply_waits: Sequence[float] = APPLY_WAITS,
        feed_polls: FeedPolls = FEED_POLLS,
        feed_size: int = MAX_FEED_MESSAGES,
        fulfilled_by: str = "MERCHANT",
    ):
        self._client = client
        self._feeds = feeds
        self._reports = reports
        self._marketplace = marketplace_id
        self._pause = pause
        self._feed_polls = feed_polls
        self._feed_size = feed_size
        self._fulfilled_by = fulfilled_by
        self.stock = Stock(
            client, feeds, marketplace_id=marketplace_id, product_type=product_type,
            pause=pause, waits=apply_waits, feed_threshold=feed_threshold,
        )  # fmt: skip

    @property
    def limits(self) -> ChannelLimits:
        return ChannelLimits(
            quantities_per_call=self._feed_size, prices_per_call=self._feed_size,
            calls_in_flight=FEEDS_IN_FLIGHT,
        )  # fmt: skip

    # Listings --------------------------------------------------------------------------------

    async def upsert_listing(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        """PUT every SKU of the listing (the parent first), then wait until Amazon shows each
        with the attributes sent; INVALID issues reject the listing with Amazon's words."""
        sent: dict[str, dict[str, Any]] = {}
        refused: list[str] = []
        for request in requests:
            sku = _sku_of(request.path)
            answer = await self._client.call("putListingsItem", "PUT", request.path,
                                             body=dict(request.body))  # fmt: skip
            if answer.body.get("status") == "INVALID":
                refused.append(f"{sku}: {issues_text(answer.body.get('issues'))}")
            else:
                sent[sku] = dict(request.body.get("attributes") or {})
        if refused:
            raise ChannelRejected("Amazon found the listing INVALID: " + " | ".join(refused))
        wanted = {sku: _shows_attributes(attributes) for sku, attributes in sent.items()}
        shown = await self.stock.applied(wanted, "attributes")
        late = sorted(set(sent) - set(shown))
        if late:
            raise ChannelUnavailable(f"Amazon accepted but has not applied {', '.join(late)} yet")
        listing_id = draft.handle if draft.options else draft.variants[0].sku
        return ListingRefs(listing_id, {v.sku: {"sku": v.sku} for v in draft.variants})

    async def end_listing(self, refs: ListingRefs) -> None:
        """Delete the children, then the parent: off Amazon (the ASINs stay in the catalog)."""
        skus = list(refs.sku_ids)
        if refs.listing_id and refs.listing_id not in skus:
            skus.append(refs.listing_id)
        for sku in skus:
            await self._client.call(
                "deleteListingsItem", "DELETE", self.stock._item_path(sku),
                params={"marketplaceIds": self._marketplace}, ok=(200, 404),
            )  # fmt: skip

    # Stock and prices ------------------------------------------------------------------------

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        return await self.stock.push_quantities(updates)

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        return await self.stock.push_prices(updates)

    async def read_managed_stock(self) -> dict[str, int]:
        """What Amazon's fulfilment centres hold of each SKU (FBA Inventory summaries)."""
        return await fba_stock(self._client, self._marketplace)

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        """Detail page views of each SKU on `day` (GET_SALES_AND_TRAFFIC_REPORT, one a day)."""
        return await self._reports.read_views(refs, day)

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        shown = await self.stock.read(list(refs), "fulfillmentAvailability,offers")
        return [
            ChannelLevel(sku, quantity_of(shown.get(sku)), price_of(shown.get(sku))) for sku in refs
        ]

    # Orders ----------------------------------------------------------------------------------

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders updated since the cursor's time, oldest update first. Amazon's
        `lastUpdatedAfter` is inclusive: the orders at exactly that time already returned
        are skipped; a pass may take several pages (`paginationToken`)."""
        position = _OrderCursor.decode(cursor)
        params: dict[str, Any] = {"marketplaceIds": self._marketplace,
                                  "maxResultsPerPage": ORDERS_PER_PAGE,
                                  "includedData": "FULFILLMENT,BUYER,RECIPIENT"}  # fmt: skip
        if position.token:
            params["paginationToken"] = position.token
        else:
            since = position.since or (self._client.now() - FIRST_PULL).isoformat()
            params["lastUpdatedAfter"] = since
        answer = await self._client.call("searchOrders", "GET", "/orders/2026-01-01/orders",
                                         params=params)  # fmt: skip
        found = answer.body.get("orders")
        if not isinstance(found, list):
            raise ChannelUnavailable("Amazon's searchOrders answer has no orders")
        orders = []
        last, last_ids = position.last, set(position.last_ids)
        taken = []
        for raw in found:
            stamp = raw.get("lastUpdatedTime") if isinstance(raw, dict) else None
            if position.at_boundary(stamp) and raw.get("orderId") in position.skip:
                continue
            try:
                order = channel_order(raw)
            except ChannelRejected as failure:
                raise ChannelUnavailable(failure.message) from None
            orders.append(order)
            if self._takes(order):
                taken.append(order)
            if last is not None and parse_time(last) == order.updated_at:
                last_ids.add(order.external_id)
            else:
                last, last_ids = str(stamp), {order.external_id}
        token = (answer.body.get("pagination") or {}).get("nextToken")
        following = _OrderCursor(
            since=position.since if token else last or position.since,
            skip=position.skip if token else tuple(sorted(last_ids)),
            token=token, last=last, last_ids=tuple(sorted(last_ids)),
        )  # fmt: skip
        return OrderPage(tuple(taken), following.encode())

    # Shipments -------------------------------------------------------------------------------

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        """shipmentConfirmation of one package; its packageReferenceId is made from the order
        and the tracking number, so a confirmation sent again (its answer lost) is the same
        package."""
        order_id = shipment.order_refs.get("order_id")
        if not order_id:
            raise ChannelRejected("the shipment names no Amazon order (order_refs['order_id'])")
        lines = shipment.lines or await self._unshipped(order_id)
        reference = hashlib.sha1(f"{order_id}|{shipment.tracking_number}".encode()).hexdigest()[:16]
        carrier = shipment.carrier.strip()
        detail: dict[str, Any] = {
            "packageReferenceId": reference,
            "carrierCode": carrier if carrier in CARRIER_CODES else "Other",
            "trackingNumber": shipment.tracking_number,
            "shipDate": self._client.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "orderItems": [{"orderItemId": item, "quantity": quantity} for item, quantity in lines],
        }
        if carrier not in CARRIER_CODES:
            detail["carrierName"] = carrier or "Other"
        path = f"{ORDERS_V0}/{quote(order_id, safe='')}/shipmentConfirmation"
        body = {"marketplaceId": self._marketplace, "packageDetail": detail}
        await self._client.call("confirmShipment", "POST", path, body=body, ok=(204,))
        return reference

    async def _unshipped(self, order_id: str) -> tuple[tuple[str, int], ...]:
        answer = await self._client.call(
            "getOrder", "GET", f"/orders/2026-01-01/orders/{quote(order_id, safe='')}",
            params={"includedData": "FULFILLMENT"},
        )  # fmt: skip
        order = channel_order(answer.body.get("order") or {})
        return tuple((line.line_id, line.quantity) for line in order.lines if line.quantity)

    # Cancellations ---------------------------------------------------------------------------

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        """An order acknowledgement feed with status Failure for these items (NoInventory):
        Amazon cancels what is left of them. An item cancelled already stays as it is."""
        order_id = notice.order_refs.get("order_id")
        if not order_id:
            raise ChannelRejected("the cancellation names no Amazon order (order_refs['order_id'])")
        items = "".join(
            f"<Item><AmazonOrderItemCode>{escape(line)}</AmazonOrderItemCode>"
            "<CancelReason>NoInventory</CancelReason></Item>"
            for line in notice.lines
        )
        document = (
            '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header><DocumentVersion>1.01'
            f"</DocumentVersion><MerchantIdentifier>{escape(self._client.seller_id)}"
            "</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
            f"<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>"
            f"{escape(order_id)}</AmazonOrderID><StatusCode>Failure</StatusCode>{items}"
            "</OrderAcknowledgement></Message></AmazonEnvelope>"
        )
        outcome = await self._feeds.send(
            "POST_ORDER_ACKNOWLEDGEMENT_DATA", "text/xml; charset=UTF-8", document.encode()
        )
        if outcome.status != "DONE":
            raise ChannelUnavailable(f"Amazon did not process cancellation feed {outcome.feed_id}")

    # Notifications (read from the queue; see `notifications`) ------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False  # Amazon posts nothing: its notifications are read from the seller's queue

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return None  # the NotificationId is in the body

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        event = notifications.parse(body)
        if event.order is not None and not self._takes(event.order):
            topic = f"{event.topic} (fulfilled by Amazon: not this channel's)"
            return replace(event, kind=InboundKind.OTHER, topic=topic[:100], order=None)
        return event

    def _takes(self, order: ChannelOrder) -> bool:
        """A merchant-fulfilled channel takes MFN orders only: Amazon ships FBA (AFN) orders
        from its own stock, which the hub's locations must never give up for them."""
        return order.raw.get("fulfilledBy", "MERCHANT") == self._fulfilled_by


@dataclass(frozen=True, slots=True)
class _OrderCursor:
    """Where `fetch_orders` continues; opaque to the hub (base64 JSON)."""

    since: str | None = None
    skip: tuple[str, ...] = ()
    token: str | None = None
    last: str | None = None
    last_ids: tuple[str, ...] = ()

    def at_boundary(self, stamp: object) -> bool:
        return (
            self.since is not None
            and isinstance(stamp, str)
            and parse_time(stamp) == parse_time(self.since)
        )

    def encode(self) -> str | None:
        if self == _OrderCursor():
            return None
        raw = json.dumps([self.since, self.skip, self.token, self.last, self.last_ids])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str | None) -> _OrderCursor:
        if not cursor:
            return cls()
        try:
            since, skip, token, last, last_ids = json.loads(base64.urlsafe_b64decode(cursor))
            return cls(since, tuple(skip), token, last, tuple(last_ids))
        except (ValueError, TypeError, binascii.Error):
            raise ChannelRejected(f"not an Amazon order cursor: {cursor!r}") from None


def _sku_of(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def _shows_attributes(sent: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Amazon shows every attribute as sent (it may add its own)."""

    def shows(item: Mapping[str, Any]) -> bool:
        shown = item.get("attributes") or {}
        return all(shown.get(name) == value for name, value in sent.items())

    return shows
