"""eBay as a channel under test: the eBay sandbox, in the test's process.

The sandbox checks every request body it takes and every answer it gives against eBay's
OpenAPI specs; a suite run that made it give an answer the spec refuses fails here, at exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from adapters.channels.ebay.connect import ebay_factory
from adapters.ratelimit import MemoryRateLimiter
from sandbox.ebay import EbaySandbox
from sandbox.ebay.store import ship_quantity
from tests.contract.channel import Delivery, Fault, HubSide, ShownItem, ShownLine, ShownOrder
from tests.contract.network import Network

API = "https://api.ebay.test"
CREDENTIALS: Mapping[str, str] = {
    "client_id": "nexo-sandbox-app",
    "client_secret": "sandbox-secret",
    "refresh_token": "v^1.1#sandbox-refresh",
    "verification_token": "sandbox-verification-token-0123456789abcdef",
    "api_url": API,
}
SETTINGS: Mapping[str, str] = {
    "marketplaceId": "EBAY_US",
    "merchantLocationKey": "WH-1",
    "fulfillmentPolicyId": "6196947000",
    "paymentPolicyId": "6196944000",
    "returnPolicyId": "6196946000",
    "categoryId": "15687",  # Clothing > Men > Shirts: every product of the suite's catalog
}


class EbayUnderTest:
    kind = "EBAY"
    currency = "USD"
    credentials = CREDENTIALS
    settings = SETTINGS
    category = "15687"  # Clothing > Men > Shirts, mapped from the catalog's category

    def __init__(self, sandbox: EbaySandbox) -> None:
        self.sandbox = sandbox

    async def subscribe(self, url: str) -> None:
        await self.sandbox.notifier.subscribe(url)  # eBay's challenge first

    async def sell(self, lines: list[tuple[str, int]], delivery: Delivery) -> str:
        self._deliveries(delivery)
        try:
            order = await self.sandbox.place_order(lines)
        finally:
            self._deliveries(Delivery.ONCE)
        return order.order_id

    async def cancel(self, order_id: str, delivery: Delivery) -> None:
        # eBay notifies no cancellation (no topic): the pull finds it, whatever `delivery`.
        self.sandbox.orders.cancel(order_id)

    async def edit(
        self,
        sku: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        delivery: Delivery = Delivery.LOST,
    ) -> None:
        # eBay notifies no edit of the seller's own: both are only seen by reading.
        store = self.sandbox.store
        if quantity is not None:
            store.items[sku]["availability"]["shipToLocationAvailability"]["quantity"] = quantity
        if price is not None:
            offer = store.listed_offer(sku)
            assert offer is not None, sku
            offer.body["pricingSummary"]["price"]["value"] = f"{price:.2f}"

    async def deliver_notifications(self) -> int:
        return await self.sandbox.deliver_notifications()

    async def item(self, sku: str) -> ShownItem | None:
        store = self.sandbox.store
        offers = [o for o in store.offers.values() if o.sku == sku and o.listing_id]
        assert len(offers) <= 1, f"{sku} is listed {len(offers)} times"
        if not offers:
            return None
        offer = offers[0]
        listing = store.listings[offer.listing_id or ""]
        group = store.groups.get(listing.group_key or "")
        title = group["title"] if group else store.items[sku]["product"]["title"]
        assert ship_quantity(store.items[sku]) >= 0
        return ShownItem(sku, store.buyable(sku), offer.price(), listing.listing_id, title)

    async def order(self, order_id: str) -> ShownOrder:
        order = self.sandbox.orders.get(order_id)
        return ShownOrder(
            lines={
                ln.sku: ShownLine(ln.sku, ln.quantity, ln.refunded, ln.shipped)
                for ln in order.lines
            },
            tracking_numbers=tuple(f.tracking for f in order.fulfillments),
            cancelled=order.cancelled,
        )

    async def inject(self, fault: Fault, calls: int = 1) -> None:
        faults = self.sandbox.faults
        match fault:
            case Fault.THROTTLED | Fault.TOO_MANY_REQUESTS:
                faults.throttle_next(calls, 429)  # eBay has one answer: 429, errorId 2001
            case Fault.SERVER_ERROR | Fault.BAD_GATEWAY | Fault.UNAVAILABLE:
                faults.fail_next(calls, int(fault.value))
            case Fault.TIMEOUT:
                faults.hang_next(calls)
            case Fault.GARBAGE:
                faults.garble_next(calls)

    async def recover(self) -> None:
        self.sandbox.faults.reset()

    def _deliveries(self, delivery: Delivery) -> None:
        faults = self.sandbox.faults
        faults.drop_webhooks = 1.0 if delivery is Delivery.LOST else 0
        faults.duplicate_webhooks = 1.0 if delivery is Delivery.TWICE else 0


@asynccontextmanager
async def ebay(hub: HubSide) -> AsyncIterator[EbayUnderTest]:
    def now() -> datetime:
        return datetime.fromtimestamp(hub.clock(), UTC)

    sandbox = EbaySandbox(notification_client=hub.http, wall_clock=now)
    api = httpx.AsyncClient(transport=Network(sandbox.app), base_url=API)
    limiter = MemoryRateLimiter(clock=hub.clock)
    hub.connector.register("ebay", ebay_factory(api, limiter, hub.tokens, clock=now))
    try:
        yield EbayUnderTest(sandbox)
    finally:
        await api.aclose()
        await sandbox.aclose()
    assert sandbox.violations == [], sandbox.violations[:5]
