"""The demo's buyers and bad days: orders on every channel, a flash sale, last-unit races,
an outage now and then, and the warehouse restocking what sold out.

Orders go in where a buyer would place them: on each marketplace sandbox (which tells Nexo
by its webhooks, notifications or queue) and, for the web store, through Nexo's GraphQL API
with a key of its own. The sleeps here pace the traffic; nothing waits on them to be right.
Every scenario is logged (`demo.flash_sale`, `demo.race`, `demo.outage`, `demo.restock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from adapters.container import Container
from adapters.logging import get_logger
from domain.access import Role
from domain.api_keys import create_api_key
from domain.inventory import stock
from sandbox.demo.catalog import HOT_SKU, RACE_SKU, catalog, skus
from sandbox.demo.marketplaces import Marketplace, Sandboxes
from sandbox.demo.seed import Demo

log = get_logger(__name__)

PLACE_ORDER = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { status } userErrors { code message } } }"""
FLASH_SALE_AFTER, FLASH_SALE_EVERY, FLASH_SALE_SECONDS, FLASH_SALE_SPEEDUP = 30.0, 120.0, 20.0, 5
RACE_AFTER, RACE_EVERY = 15.0, 60.0
OUTAGE_AFTER, OUTAGE_EVERY, OUTAGE_SECONDS = 40.0, 120.0, 25.0
RESTOCK_EVERY = 10.0
RACE_RESTOCK = 3  # the racing SKU comes back a few at a time, so its races go on


@dataclass
class TrafficPlan:
    """How busy the demo is: orders a minute over all channels; 0 pauses every scenario."""

    orders_per_minute: float = 30.0
    flash_sale: bool = False


class Traffic:
    def __init__(
        self, container: Container, sandboxes: Sandboxes, demo: Demo, base_url: str,
        plan: TrafficPlan,
    ) -> None:  # fmt: skip
        self.container, self.sandboxes, self.demo = container, sandboxes, demo
        self.base_url, self.plan = base_url, plan
        self.markets = {m.kind: m for m in sandboxes.marketplaces()}
        self.kinds = [*self.markets, "webstore"]
        self.placed: Counter[str] = Counter()
        self._random = random.Random()
        self._http: httpx.AsyncClient | None = None
        self._outages = 0
        self._buying: set[asyncio.Task[bool]] = set()

    async def run(self) -> None:
        await self._subscribe_ebay()
        async with await self._web_store() as http:
            self._http = http
            try:
                await self._all_day()
            finally:
                for buying in list(self._buying):
                    buying.cancel()

    async def _all_day(self) -> None:
        await asyncio.gather(
            self._orders(),
            self._every(RACE_AFTER, RACE_EVERY, self._race),
            self._every(FLASH_SALE_AFTER, FLASH_SALE_EVERY, self._flash_sale),
            self._every(OUTAGE_AFTER, OUTAGE_EVERY, self._outage),
            self._every(RESTOCK_EVERY, RESTOCK_EVERY, self._restock),
        )

    # Set-up ------------------------------------------------------------------------------

    async def _subscribe_ebay(self) -> None:
        """eBay sends notifications once the hub answers its challenge: retried until the
        server is listening (this starts with it)."""
        endpoint = f"{self.base_url}/webhooks/{self.demo.channels['ebay']}"
        for _ in range(100):
            try:
                await self.sandboxes.ebay.notifier.subscribe(endpoint)
                return
            except (ValueError, httpx.HTTPError):
                await asyncio.sleep(0.2)
        log.warning("demo.ebay_unsubscribed", endpoint=endpoint)

    async def _web_store(self) -> httpx.AsyncClient:
        async with self.container.uow() as uow:
            issued = await create_api_key(
                uow, name=f"demo-web-store-{uuid.uuid4().hex[:8]}", role=Role.STAFF
            )
            await uow.commit()
        headers = {"Authorization": f"Bearer {issued.secret}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10)

    # Buyers ------------------------------------------------------------------------------

    async def _orders(self) -> None:
        turn = 0
        while True:
            rate = self.plan.orders_per_minute
            if rate <= 0:
                await asyncio.sleep(1)
                continue
            hot = self.plan.flash_sale
            await asyncio.sleep(60 / rate / (FLASH_SALE_SPEEDUP if hot else 1))
            kind = self.kinds[turn % len(self.kinds)]
            turn += 1
            sku = HOT_SKU if hot and self._random.random() < 0.7 else self._random.choice(skus())
            # Buyers do not queue behind each other: each checkout runs on its own.
            buying = asyncio.create_task(self.buy(kind, sku, self._random.choice((1, 1, 1, 2))))
            self._buying.add(buying)
            buying.add_done_callback(self._buying.discard)

    async def buy(self, kind: str, sku: str, quantity: int) -> bool:
        """One buyer checks out on `kind`; False when the channel would not sell it."""
        try:
            if kind == "webstore":
                sold = await self._buy_on_web_store(sku, quantity)
            else:
                await self.sandboxes.place_order(kind, [(sku, quantity)])
                sold = True
        # A sandbox refuses what it does not list (yet) or has sold out of, each its own way:
        # a buyer who could not buy is part of the demo, not a failure of it.
        except Exception as refused:
            log.debug("demo.not_sold", channel=kind, sku=sku, reason=repr(refused))
            return False
        if sold:
            self.placed[kind] += 1
            log.debug("demo.sold", channel=kind, sku=sku, quantity=quantity)
        return sold

    async def _buy_on_web_store(self, sku: str, quantity: int) -> bool:
        assert self._http is not None
        cart = f"demo-{uuid.uuid4().hex[:12]}"
        price = next(v.price for spec, _ in catalog() for v in spec.variants if v.sku == sku)
        answer = await self._http.post("/graphql", json={"query": PLACE_ORDER, "variables": {
            "input": {
                "channelId": str(self.demo.channels["webstore"]), "cartId": cart,
                "customer": {"name": "Demo Buyer", "email": "buyer@example.com"},
                "shippingAddress": {"line1": "1 Main St", "city": "Austin", "country": "US"},
                "lines": [{"sku": sku, "quantity": quantity, "unitPrice": {
                    "amount": str(price.amount), "currencyCode": price.currency}}],
                "idempotencyKey": cart,
            }}})  # fmt: skip
        payload = answer.json()["data"]["placeOrder"]
        return not payload["userErrors"]

    # Bad days ----------------------------------------------------------------------------

    async def _every(
        self, after: float, every: float, scenario: Callable[[], Awaitable[None]]
    ) -> None:
        await asyncio.sleep(after)
        while True:
            if self.plan.orders_per_minute > 0:
                try:
                    await scenario()
                # One bad turn (a database busy at the wrong moment) must not end the demo's
                # traffic: said once, tried again at the next turn.
                except Exception as failed:
                    log.warning("demo.scenario_failed", scenario=scenario.__name__,
                                error=repr(failed))  # fmt: skip
            await asyncio.sleep(every)

    async def _race(self) -> None:
        """Every channel sells the racing SKU at the same moment: when fewer units are left
        than buyers, the hub allocates them and the others are conflicts."""
        won = await asyncio.gather(*(self.buy(kind, RACE_SKU, 1) for kind in self.kinds))
        log.info("demo.race", sku=RACE_SKU, buyers=len(won), sold=sum(won))

    async def _flash_sale(self) -> None:
        log.info("demo.flash_sale", sku=HOT_SKU, seconds=FLASH_SALE_SECONDS,
                 speedup=FLASH_SALE_SPEEDUP)  # fmt: skip
        self.plan.flash_sale = True
        try:
            await asyncio.sleep(FLASH_SALE_SECONDS)
        finally:
            self.plan.flash_sale = False
            log.info("demo.flash_sale_over", sku=HOT_SKU)

    async def _outage(self) -> None:
        """One marketplace (in turn) answers every call with 503 for a while."""
        markets = list(self.markets.values())
        market: Marketplace = markets[self._outages % len(markets)]
        self._outages += 1
        log.info("demo.outage", channel=market.name, seconds=OUTAGE_SECONDS)
        market.faults.fail_next(1_000_000, 503)
        try:
            await asyncio.sleep(OUTAGE_SECONDS)
        finally:
            market.faults.reset()
            log.info("demo.outage_over", channel=market.name)

    async def _restock(self) -> None:
        """What sold out is received again (the racing SKU a few units at a time)."""
        async with self.container.uow(readonly=True) as uow:
            snapshots = await uow.inventory.snapshots(skus())
        starting = {sku: n for _, quantities in catalog() for sku, n in quantities.items()}
        for sku, snapshot in snapshots.items():
            level = snapshot.level_at(self.demo.location_id)
            if level is None or level.available > 0:
                continue
            quantity = RACE_RESTOCK if sku == RACE_SKU else starting[sku]
            await stock.receive(
                self.container.uow, sku=sku, location_id=self.demo.location_id,
                quantity=quantity, key=f"demo-restock-{uuid.uuid4()}", actor="demo",
            )  # fmt: skip
            log.info("demo.restock", sku=sku, quantity=quantity)


@contextlib.asynccontextmanager
async def running(traffic: Traffic) -> AsyncIterator[Traffic]:
    task = asyncio.create_task(traffic.run(), name="demo-traffic")
    try:
        yield traffic
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as failed:  # it ended early: shutting down goes on
            log.warning("demo.traffic_failed", error=repr(failed))
