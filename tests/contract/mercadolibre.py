"""MercadoLibre as a channel under test: the MercadoLibre sandbox, in the test's process, on
either listing model — classic items with variations (`mercadolibre`) and User Products, an
item per variant (`mercadolibre_up`) — with ME1 shipping (the seller ships and tells the
tracking number).

The merchant's own edits are made in the sandbox's records as MercadoLibre's admin would show
them; a price edited on one variation of a classic item moves that variation alone (the
admin's doing: the API would refuse it, and the hub's repair sets one price again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from adapters.channels.mercadolibre.connect import mercadolibre_factory, missed_feeds_factory
from adapters.ratelimit import MemoryRateLimiter
from sandbox.mercadolibre import MercadoLibreSandbox
from tests.contract.channel import Delivery, Fault, HubSide, ShownItem, ShownLine, ShownOrder
from tests.contract.network import Network

API = "https://api.mercadolibre.test"
CATEGORY = "MLA109282"  # Ropa > Remeras: every product of the suite's catalog
CREDENTIALS: Mapping[str, str] = {
    "client_id": "4242424242",
    "client_secret": "sandbox-secret",
    "refresh_token": "TG-sandbox-refresh",
    "user_id": "123456789",
    "api_url": API,
    # The suite's sandbox meters nothing, and the suite's clock stands still between the
    # moments a test skips: a bucket as small as the real quota's second (25 calls) would
    # wait for ever. Its pacing is the trap tests' and the bench's to measure.
    "calls_per_minute": "60000",
}


class MeliUnderTest:
    kind = "MERCADOLIBRE"
    currency = "ARS"
    credentials = CREDENTIALS
    category = CATEGORY

    def __init__(self, sandbox: MercadoLibreSandbox, model: str) -> None:
        self.sandbox = sandbox
        self.settings = {"listingModel": model, "listingTypeId": "gold_special",
                         "shippingMode": "me1"}  # fmt: skip

    async def subscribe(self, url: str) -> None:
        self.sandbox.notifier.endpoint = url

    async def sell(self, lines: list[tuple[str, int]], delivery: Delivery) -> str:
        self._deliveries(delivery)
        try:
            orders = await self.sandbox.place_order(lines)
        finally:
            self._deliveries(Delivery.ONCE)
        return str(orders[0].pack_id or orders[0].id)

    async def cancel(self, order_id: str, delivery: Delivery) -> None:
        self._deliveries(delivery)
        try:
            await self.sandbox.cancel_order(order_id)
        finally:
            self._deliveries(Delivery.ONCE)

    async def edit(
        self,
        sku: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        delivery: Delivery = Delivery.LOST,
    ) -> None:
        store = self.sandbox.store
        [(item, variation)] = store.listed(sku)
        up = store.user_products.get(item.get("user_product_id") or "")
        if quantity is not None:
            if variation is not None:
                variation["available_quantity"] = quantity
            elif up is not None:
                up.locations["selling_address"] = quantity
                up.version += 1
            else:
                item["available_quantity"] = quantity
        if price is not None:
            (variation or item)["price"] = float(price)
        self._deliveries(delivery)
        try:
            self.sandbox.notifier.publish("items", f"/items/{item['id']}")
            await self.sandbox.deliver_notifications()
        finally:
            self._deliveries(Delivery.ONCE)

    async def deliver_notifications(self) -> int:
        return await self.sandbox.deliver_notifications()

    async def item(self, sku: str) -> ShownItem | None:
        listed = self.sandbox.store.listed(sku)
        assert len(listed) <= 1, f"{sku} is listed {len(listed)} times"
        if not listed:
            return None
        item, variation = listed[0]
        price = Decimal(str((variation or item)["price"])).quantize(Decimal("0.01"))
        listing = str(item.get("family_id") or item["id"])
        quantity = self.sandbox.store.buyable(item, variation)
        return ShownItem(sku, quantity, price, listing, str(item["title"]))

    async def order(self, order_id: str) -> ShownOrder:
        orders = self.sandbox.orders.of_sale(order_id)
        lines: dict[str, ShownLine] = {}
        for o in orders:
            sku = o.sku or ""
            cancelled = o.quantity - o.shipped if o.status == "cancelled" else 0
            was = lines.get(sku, ShownLine(sku, 0, 0, 0))
            lines[sku] = ShownLine(sku, was.ordered + o.quantity, was.cancelled + cancelled,
                                   was.shipped + o.shipped)  # fmt: skip
        shipments = {o.shipping_id for o in orders}
        tracking = tuple(
            p["tracking_number"]
            for s in sorted(shipments)
            for p in self.sandbox.orders.shipments[s].parcels
        )
        return ShownOrder(lines, tracking, all(o.status == "cancelled" for o in orders))

    async def inject(self, fault: Fault, calls: int = 1) -> None:
        faults = self.sandbox.faults
        match fault:
            case Fault.THROTTLED | Fault.TOO_MANY_REQUESTS:
                faults.throttle_next(calls, 429)  # MercadoLibre has one answer: 429
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
async def _started(hub: HubSide, model: str) -> AsyncIterator[MeliUnderTest]:
    def now() -> datetime:
        return datetime.fromtimestamp(hub.clock(), UTC)

    sandbox = MercadoLibreSandbox(
        notification_client=hub.http, wall_clock=now, user_products=model == "user_products"
    )
    api = httpx.AsyncClient(transport=Network(sandbox.app), base_url=API)
    limiter = MemoryRateLimiter(clock=hub.clock)
    hub.connector.register("mercadolibre", mercadolibre_factory(api, limiter, hub.tokens,
                                                                clock=now))  # fmt: skip
    hub.connector.register_queue("mercadolibre", missed_feeds_factory(api, limiter, hub.tokens,
                                                                      clock=now))  # fmt: skip
    try:
        yield MeliUnderTest(sandbox, model)
    finally:
        await api.aclose()
        await sandbox.aclose()
    assert sandbox.store.deleted == [], sandbox.store.deleted  # no variation lost by a PUT


def mercadolibre(hub: HubSide) -> AbstractAsyncContextManager[MeliUnderTest]:
    """Classic items, a product's variants as an item's variations."""
    return _started(hub, "classic")


def mercadolibre_up(hub: HubSide) -> AbstractAsyncContextManager[MeliUnderTest]:
    """User Products: an item per variant, a product's items one family."""
    return _started(hub, "user_products")
