"""Amazon as a channel under test: the Amazon sandbox, in the test's process.

Amazon queues what it accepts and applies it a little later; the port waits for that (and
for its rate limits) by pausing. Here a pause skips time instead of sleeping: the sandbox,
the port's rate limiter and its idea of now all read the suite's clock plus the time its
pauses skipped. Notifications go to the seller's queue (SQS-shaped); the hub reads it with
its worker job, which `deliver_notifications` (and each sale, cancellation or edit) runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from adapters.channels.amazon.connect import amazon_factory, queue_factory
from adapters.ratelimit import MemoryRateLimiter
from sandbox.amazon import AmazonSandbox
from tests.contract.channel import Delivery, Fault, HubSide, ShownItem, ShownLine, ShownOrder
from tests.contract.network import Network

API = "https://sellingpartnerapi-na.amazon.com"
SELLER, MARKETPLACE = "A2SANDBOXSELLER1", "ATVPDKIKX0DER"
CREDENTIALS: Mapping[str, str] = {
    "client_id": "amzn1.application-oa2-client.sandbox",
    "client_secret": "sandbox-client-secret",
    "refresh_token": "Atzr|sandbox-refresh-token",
    "api_url": API,
    "token_url": f"{API}/auth/o2/token",
    "queue_url": f"{API}/sqs",
    # The sandbox queue's keys (`SqsKeys`): its requests are signed with SigV4.
    "aws_access_key_id": "AKIASANDBOXQUEUE0001",
    "aws_secret_access_key": "sandbox/aws-secret-access-key",
    "aws_region": "us-east-1",
}
SETTINGS: Mapping[str, str] = {
    "sellerId": SELLER,
    "marketplaceId": MARKETPLACE,
    "productType": "SHIRT",
    "gtinExemption": "true",
}


Connect = Callable[..., None]


@dataclass
class SuiteTime:
    """The suite's clock plus what the port's pauses skipped (seconds since the epoch)."""

    hub: HubSide
    skipped: float = 0.0

    def __call__(self) -> float:
        return self.hub.clock() + self.skipped

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)

    async def pause(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)


class AmazonUnderTest:
    kind = "AMAZON"
    currency = "USD"
    credentials = CREDENTIALS
    settings = SETTINGS
    category = "2419332011"  # a browse node (Clothing, Shoes & Jewelry, Outdoor)

    def __init__(self, sandbox: AmazonSandbox, hub: HubSide, connect: Connect) -> None:
        self.sandbox = sandbox
        self.hub = hub
        self.connect = connect  # registers the hub's adapter anew, with these options

    async def subscribe(self, url: str) -> None:
        """Amazon's notifications go to the seller's queue (`queue_url`), read by the hub."""

    async def sell(self, lines: list[tuple[str, int]], delivery: Delivery) -> str:
        with self._notifications(delivery):
            placed = self.sandbox.place_order(lines)
        await self.hub.read_queues()
        return placed

    async def cancel(self, order_id: str, delivery: Delivery) -> None:
        with self._notifications(delivery):
            self.sandbox.cancel_order(order_id)
        await self.hub.read_queues()

    async def edit(
        self,
        sku: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        delivery: Delivery = Delivery.LOST,
    ) -> None:
        with self._notifications(delivery):
            self.sandbox.edit(sku, quantity=quantity, price=price)
        await self.hub.read_queues()

    async def deliver_notifications(self) -> int:
        self.sandbox.seller.settle()
        return await self.hub.read_queues()

    async def item(self, sku: str) -> ShownItem | None:
        self.sandbox.seller.settle()
        item = self.sandbox.seller.listings.items.get(sku)
        if item is None:
            return None
        offer = item.offer
        return ShownItem(
            sku=sku,
            quantity=item.quantity,
            price=offer[1] if offer else None,
            listing=item.parent_sku or sku,
            title=item.title,
        )

    async def order(self, order_id: str) -> ShownOrder:
        order = self.sandbox.seller.orders[order_id]
        return ShownOrder(
            lines={
                line.sku: ShownLine(line.sku, line.quantity, line.cancelled, line.shipped)
                for line in order.lines
            },
            tracking_numbers=tuple(p.tracking for p in order.packages),
            cancelled=order.cancelled,
        )

    async def inject(self, fault: Fault, calls: int = 1) -> None:
        faults = self.sandbox.faults
        match fault:
            case Fault.THROTTLED | Fault.TOO_MANY_REQUESTS:
                faults.throttle_next(calls, 429)  # Amazon says it one way: 429 QuotaExceeded
            case Fault.SERVER_ERROR | Fault.BAD_GATEWAY | Fault.UNAVAILABLE:
                faults.fail_next(calls, int(fault.value))
            case Fault.TIMEOUT:
                faults.hang_next(calls)
            case Fault.GARBAGE:
                faults.garble_next(calls)

    async def recover(self) -> None:
        self.sandbox.faults.reset()

    @contextmanager
    def _notifications(self, delivery: Delivery) -> Iterator[None]:
        faults = self.sandbox.faults
        faults.drop_webhooks = 1.0 if delivery is Delivery.LOST else 0
        faults.duplicate_webhooks = 1.0 if delivery is Delivery.TWICE else 0
        try:
            yield
        finally:
            faults.drop_webhooks = faults.duplicate_webhooks = 0


@asynccontextmanager
async def amazon(hub: HubSide) -> AsyncIterator[AmazonUnderTest]:
    time = SuiteTime(hub)
    sandbox = AmazonSandbox(seller_id=SELLER, marketplace_id=MARKETPLACE, clock=time)
    api = httpx.AsyncClient(transport=Network(sandbox.app), base_url=API)
    limiter = MemoryRateLimiter(clock=time, sleep=time.pause)

    def connect(**options: Any) -> None:
        given: dict[str, Any] = {"pause": time.pause, "clock": time.now, **options}
        factory = amazon_factory(api, limiter, hub.tokens, **given)
        hub.connector.register("amazon", factory)

    connect()
    hub.connector.register_queue("amazon", queue_factory(api))
    try:
        yield AmazonUnderTest(sandbox, hub, connect)
    finally:
        await api.aclose()
        assert sandbox.violations == [], sandbox.violations
