"""Shopify as a channel under test: the Shopify sandbox, in the test's process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from adapters.channels.shopify.connect import shopify_factory
from adapters.ratelimit import MemoryRateLimiter
from sandbox.shopify import ShopifySandbox
from sandbox.shopify.ids import gid, parse_gid
from tests.contract.channel import Delivery, Fault, HubSide, ShownItem, ShownLine, ShownOrder
from tests.contract.network import Network
from tests.integration.sync.shop import CREDENTIALS, SHOP_LOCATION


class ShopifyUnderTest:
    kind = "SHOPIFY"
    currency = "USD"
    credentials: Mapping[str, str] = CREDENTIALS
    settings: Mapping[str, str] = {"locationId": SHOP_LOCATION}
    category = None

    def __init__(self, sandbox: ShopifySandbox) -> None:
        self.sandbox = sandbox

    async def subscribe(self, url: str) -> None:
        self.sandbox.webhooks.url = url

    async def sell(self, lines: list[tuple[str, int]], delivery: Delivery) -> str:
        with self._webhooks(delivery):
            return await self.sandbox.place_order(lines, location_gid=SHOP_LOCATION)

    async def cancel(self, order_id: str, delivery: Delivery) -> None:
        with self._webhooks(delivery):
            await self.sandbox.cancel_order(order_id, restock=True)

    async def edit(
        self,
        sku: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        delivery: Delivery = Delivery.LOST,
    ) -> None:
        if price is not None:
            # Shopify's products/update says nothing the hub acts on: the price is just changed.
            [variant] = self.sandbox.store.variants_by_sku(sku)
            variant.price = price
        if quantity is not None:
            with self._webhooks(delivery):
                await self.sandbox.edit_inventory(sku, SHOP_LOCATION, quantity)

    async def deliver_notifications(self) -> int:
        return await self.sandbox.deliver_pending_webhooks()

    async def item(self, sku: str) -> ShownItem | None:
        variants = self.sandbox.store.variants_by_sku(sku)
        assert len(variants) <= 1, f"{sku} is on the shop {len(variants)} times"
        if not variants or variants[0].product.status != "ACTIVE":
            return None  # archived: off every sales channel
        variant = variants[0]
        return ShownItem(
            sku=sku,
            quantity=self.sandbox.inventory_quantity(sku, SHOP_LOCATION),
            price=variant.price,
            listing=gid("Product", variant.product.id),
            title=variant.product.title,
        )

    async def order(self, order_id: str) -> ShownOrder:
        order = self.sandbox.store.orders[parse_gid(order_id, "Order") or 0]
        return ShownOrder(
            lines={
                line.sku or "": ShownLine(
                    line.sku or "", line.quantity, -line.quantity_change, line.fulfilled_quantity
                )
                for line in order.line_items
            },
            tracking_numbers=tuple(
                t.number for f in order.fulfillments for t in f.tracking if t.number
            ),
            cancelled=order.cancelled_at is not None,
        )

    async def inject(self, fault: Fault, calls: int = 1) -> None:
        faults = self.sandbox.faults
        match fault:
            case Fault.THROTTLED:
                faults.throttle_next(calls, 200)
            case Fault.TOO_MANY_REQUESTS:
                faults.throttle_next(calls, 429)
            case Fault.SERVER_ERROR | Fault.BAD_GATEWAY | Fault.UNAVAILABLE:
                faults.fail_next(calls, int(fault.value))
            case Fault.TIMEOUT:
                faults.hang_next(calls)
            case Fault.GARBAGE:
                faults.garble_next(calls)

    async def recover(self) -> None:
        self.sandbox.faults.reset()

    @contextmanager
    def _webhooks(self, delivery: Delivery) -> Iterator[None]:
        """Shopify's webhooks of what happens inside, dropped or sent twice as `delivery` says
        (the sandbox sends them before its merchant and customer actions return)."""
        faults = self.sandbox.faults
        faults.drop_webhooks = 1.0 if delivery is Delivery.LOST else 0
        faults.duplicate_webhooks = 1.0 if delivery is Delivery.TWICE else 0
        try:
            yield
        finally:
            faults.drop_webhooks = faults.duplicate_webhooks = 0


@asynccontextmanager
async def shopify(hub: HubSide) -> AsyncIterator[ShopifyUnderTest]:
    # The shop's own clock is the suite's: its timestamps (whole seconds) move when time is
    # skipped, as they would have had the suite waited.
    sandbox = ShopifySandbox(
        webhook_client=hub.http, wall_clock=lambda: datetime.fromtimestamp(hub.clock(), UTC)
    )
    shop = httpx.AsyncClient(
        transport=Network(sandbox.app), base_url=f"https://{CREDENTIALS['shop_domain']}"
    )
    hub.connector.register("shopify", shopify_factory(shop, MemoryRateLimiter(clock=hub.clock)))
    try:
        yield ShopifyUnderTest(sandbox)
    finally:
        await shop.aclose()
        await sandbox.aclose()
