"""The mixed load: web store shoppers racing for last units, customers of each marketplace
(Shopify, Amazon, eBay, MercadoLibre) buying what it shows, a merchant moving stock, a
fulfilment desk shipping, cancelling and taking returns, and order pulls.

Every actor is a loop bounded both in count and by the load's deadline; every operation is
recorded with its request and answer (recorder.py). Randomness comes from the run's seed.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.faults.hub import Answer
from bench.faults.stage import HOT, Stage

ABANDON = 0.1  # carts left to expire
ABANDONED_CART_SECONDS = 20
CART_SECONDS = 120
PRICE = {"amount": "20.00", "currencyCode": "USD"}

CHECKOUT_RESERVE = """
mutation($input: CheckoutReserveInput!) { checkoutReserve(input: $input) {
  reservations { sku quantity status } replayed userErrors { field message code } } }"""
PLACE_ORDER = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { replayed
  order { id status lines { sku quantity status } } userErrors { field message code } } }"""
_LEVELS = "levels { location { id } onHand reserved } replayed userErrors { field message code }"
RECEIVE = f"mutation($input: ReceiveStockInput!) {{ receiveStock(input: $input) {{ {_LEVELS} }} }}"
ADJUST = f"mutation($input: AdjustStockInput!) {{ adjustStock(input: $input) {{ {_LEVELS} }} }}"
COUNT = f"mutation($input: CountStockInput!) {{ countStock(input: $input) {{ {_LEVELS} }} }}"
TRANSFER = (
    f"mutation($input: TransferStockInput!) {{ transferStock(input: $input) {{ {_LEVELS} }} }}"
)
_ORDER = "order { id status } userErrors { field message code }"
CANCEL = f"mutation($input: CancelOrderInput!) {{ cancelOrder(input: $input) {{ {_ORDER} }} }}"
SHIP = f"mutation($input: CreateShipmentInput!) {{ createShipment(input: $input) {{ {_ORDER} }} }}"
RETURN = (
    f"mutation($input: ReturnOrderLinesInput!) {{ returnOrderLines(input: $input) {{ {_ORDER} }} }}"
)
ORDERS = """
query($s: [OrderStatus!]) { orders(first: 30, filter: {statuses: $s}) { edges { node {
  id externalId channelId status lines { id sku status location { id } } } } } }"""
ITEM = "query($sku: String!) { inventoryItem(sku: $sku) { levels { location { id } onHand } } }"


@dataclass
class Plan:
    seconds: float
    seed: int
    shoppers: int = 6
    shop_orders_per_s: float = 1.0
    market_orders_per_s: float = 0.4  # on each of Amazon, eBay and MercadoLibre
    merchant_per_s: float = 3.0
    desk_per_s: float = 1.5
    pull_every: float = 10.0


class Load:
    def __init__(self, stage: Stage, plan: Plan, pull: Callable[[], Awaitable[None]]) -> None:
        self.stage, self.plan, self.pull_orders = stage, plan, pull
        self.recorder = stage.recorder
        self.deadline = self.recorder.now() + plan.seconds

    def over(self) -> bool:
        return self.recorder.now() >= self.deadline

    def cap(self, per_s: float) -> int:
        """At most this many iterations, whatever the pace."""
        return int(self.plan.seconds * per_s * 2) + 10

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.plan.seed}-{name}")

    async def run(self) -> None:
        actors = [self.shopper(n) for n in range(self.plan.shoppers)]
        actors += [self.customer(kind) for kind in self.stage.channels]
        actors += [self.merchant(), self.desk(), self.puller()]
        await asyncio.gather(*actors)

    async def pause(self, rng: random.Random, per_s: float) -> None:
        left = self.deadline - self.recorder.now()
        await asyncio.sleep(max(0.0, min(rng.expovariate(per_s), 2 / per_s, left)))

    def record(
        self, kind: str, answer: Answer, request: dict[str, Any], skus: list[str], **more: Any
    ) -> dict[str, Any]:
        return self.recorder.op(
            kind,
            answer.outcome,
            t0=answer.t0,
            t1=answer.t1,
            request=request,
            skus=skus,
            errors=answer.errors,
            attempts=answer.attempts,
            **more,
        )

    # Web store shoppers ------------------------------------------------------------------

    async def shopper(self, n: int) -> None:
        rng = self.rng(f"shopper-{n}")
        stage = self.stage
        for _ in range(self.cap(6.0)):
            if self.over():
                return
            hot = rng.random() < 0.8
            sku = rng.choice(stage.hot if hot else stage.skus[HOT:])
            cart = uuid.uuid4().hex
            # Abandoned carts lapse within the load (expiry + the sweep's period): a hold
            # lapsing after it would move the hub's figure while convergence is measured.
            lapses_in_time = self.deadline - self.recorder.now() > ABANDONED_CART_SECONDS + 5
            leaving = lapses_in_time and rng.random() < ABANDON
            if await self.checkout_reserve(cart, sku, leaving) and not leaving:
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # paying
                await self.place_order(cart, sku)
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    async def checkout_reserve(self, cart: str, sku: str, leaving: bool) -> bool:
        seconds = ABANDONED_CART_SECONDS if leaving else CART_SECONDS
        answer = await self.stage.hub.mutate(
            CHECKOUT_RESERVE,
            {
                "input": {
                    "channelId": self.stage.webstore,
                    "cartId": cart,
                    "idempotencyKey": f"hold-{cart}",
                    "lines": [{"sku": sku, "quantity": 1}],
                    "expiresInSeconds": seconds,
                }
            },
        )
        held = (answer.payload or {}).get("reservations") or []
        self.record(
            "checkout_reserve",
            answer,
            {"lines": [[sku, 1]], "expires": seconds},
            [sku],
            cart=cart,
            response={"held": [[r["sku"], r["quantity"], r["status"]] for r in held]},
        )
        return answer.ok

    async def place_order(self, cart: str, sku: str) -> None:
        answer = await self.stage.hub.mutate(
            PLACE_ORDER,
            {
                "input": {
                    "channelId": self.stage.webstore,
                    "cartId": cart,
                    "idempotencyKey": f"pay-{cart}",
                    "customer": {"name": "Shopper", "email": f"{cart[:8]}@example.com"},
                    "shippingAddress": {
                        "line1": "1 Main St",
                        "city": "Springfield",
                        "country": "US",
                    },
                    "lines": [{"sku": sku, "quantity": 1, "unitPrice": PRICE}],
                }
            },
        )
        order = (answer.payload or {}).get("order") or {}
        lines = [[ln["sku"], ln["quantity"], ln["status"]] for ln in order.get("lines") or []]
        self.record(
            "place_order",
            answer,
            {"lines": [[sku, 1]]},
            [sku],
            cart=cart,
            order=order.get("id"),
            response={
                "status": order.get("status"),
                "lines": lines,
                "replayed": (answer.payload or {}).get("replayed"),
            },
        )

    # Marketplace customers ---------------------------------------------------------------

    async def customer(self, kind: str) -> None:
        """A marketplace's buyers: on the shop at `shop_orders_per_s`, on the others at
        `market_orders_per_s`; nobody buys on a marketplace while it is stopped."""
        rng = self.rng("shop" if kind == "shopify" else kind)
        pace = self.plan.shop_orders_per_s if kind == "shopify" else self.plan.market_orders_per_s
        for _ in range(self.cap(pace)):
            await self.pause(rng, pace)
            if self.over():
                return
            if not self.stage.up(kind).is_set():
                continue
            lines = await self.basket(rng, kind)
            if lines:
                await self.buy_on(kind, lines)

    async def basket(self, rng: random.Random, kind: str) -> list[list[Any]]:
        """One or two SKUs the marketplace shows in stock (hot ones half the time): it sells
        what it shows, which may be a unit Nexo has just sold elsewhere."""
        try:
            shown = await self.stage.shows(kind)
        except httpx.HTTPError:
            return []
        on_sale = [sku for sku, q in shown.items() if q and q > 0]
        hot = [sku for sku in self.stage.hot if sku in on_sale]
        if not on_sale:
            return []
        skus = rng.sample(on_sale, min(len(on_sale), rng.choice((1, 1, 2))))
        if hot and rng.random() < 0.5:
            skus[0] = rng.choice(hot)
        return [[sku, 1] for sku in dict.fromkeys(skus)]

    async def buy_on(self, kind: str, lines: list[list[Any]]) -> None:
        t0 = self.recorder.now()
        outcome, external, problem = "unknown", None, None
        try:
            external, problem = await self._checkout(kind, lines)
            outcome = "accepted" if external else "refused"
        except httpx.HTTPError as error:
            problem = type(error).__name__
        self.recorder.op(
            "shop_order",
            outcome,
            t0=t0,
            t1=self.recorder.now(),
            request={"lines": lines},
            skus=[sku for sku, _ in lines],
            channel=kind,
            external=external,
            errors=[{"code": kind.upper(), "message": problem}] if problem else [],
            attempts=[{"server": kind}],
        )

    async def _checkout(self, kind: str, lines: list[list[Any]]) -> tuple[str | None, str | None]:
        if kind != "shopify":
            return await self.stage.markets[kind].place(lines)
        response = await self.stage.shop.post("/_sandbox/orders", json={"lines": lines})
        if response.status_code == 201:
            return str(response.json()["id"]), None
        return None, response.text[:200]

    # The merchant ------------------------------------------------------------------------

    async def merchant(self) -> None:
        rng = self.rng("merchant")
        moves = [self.receive, self.adjust, self.count, self.transfer]
        for _ in range(self.cap(self.plan.merchant_per_s)):
            await self.pause(rng, self.plan.merchant_per_s)
            if self.over():
                return
            move = rng.choices(moves, weights=(3, 2.5, 1.5, 3))[0]
            await move(rng)

    def _where(self, rng: random.Random, sku: str) -> str:
        wh1, wh2 = self.stage.locations["WH1"], self.stage.locations["WH2"]
        return wh1 if sku in self.stage.hot or rng.random() < 0.6 else wh2

    async def stock_op(self, kind: str, query: str, fields: dict[str, Any]) -> None:
        key = f"{kind}-{uuid.uuid4().hex}"
        answer = await self.stage.hub.mutate(query, {"input": {**fields, "idempotencyKey": key}})
        levels = (answer.payload or {}).get("levels") or []
        self.record(
            kind,
            answer,
            fields,
            [fields["sku"]],
            key=key,
            response={
                "levels": [[lv["location"]["id"], lv["onHand"], lv["reserved"]] for lv in levels]
            },
        )

    async def receive(self, rng: random.Random) -> None:
        sku = rng.choice(self.stage.hot) if rng.random() < 0.6 else rng.choice(self.stage.skus)
        fields = {"sku": sku, "locationId": self._where(rng, sku), "quantity": rng.randint(1, 3)}
        await self.stock_op("receive", RECEIVE, fields)

    async def adjust(self, rng: random.Random) -> None:
        sku = rng.choice(self.stage.skus)
        fields = {
            "sku": sku,
            "locationId": self._where(rng, sku),
            "delta": rng.choice((-2, -1, 1, 2)),
            "reason": "harness",
        }
        await self.stock_op("adjust", ADJUST, fields)

    async def count(self, rng: random.Random) -> None:
        sku = rng.choice(self.stage.skus)
        where = self._where(rng, sku)
        try:
            item = (await self.stage.hub.read(ITEM, sku=sku))["inventoryItem"]
        except RuntimeError:
            return
        now = next((lv["onHand"] for lv in item["levels"] if lv["location"]["id"] == where), 0)
        fields = {
            "sku": sku,
            "locationId": where,
            "expectedOnHand": now,
            "onHand": max(0, now + rng.choice((-1, 0, 1))),
        }
        await self.stock_op("count", COUNT, fields)

    async def transfer(self, rng: random.Random) -> None:
        sku = rng.choice(self.stage.skus)
        ends = [self.stage.locations["WH1"], self.stage.locations["WH2"]]
        rng.shuffle(ends)
        fields = {"sku": sku, "fromLocationId": ends[0], "toLocationId": ends[1], "quantity": 1}
        await self.stock_op("transfer", TRANSFER, fields)

    # The fulfilment desk -----------------------------------------------------------------

    async def desk(self) -> None:
        rng = self.rng("desk")
        for _ in range(self.cap(self.plan.desk_per_s)):
            await self.pause(rng, self.plan.desk_per_s)
            if self.over():
                return
            kind = rng.choices(("ship", "cancel", "return"), weights=(5, 2, 2))[0]
            statuses = {
                "ship": ["ALLOCATED"],
                "cancel": ["ALLOCATED", "OPEN"],
                "return": ["SHIPPED"],
            }[kind]
            try:
                edges = (await self.stage.hub.read(ORDERS, s=statuses))["orders"]["edges"]
            except RuntimeError:
                continue
            if edges:
                await self.handle(kind, rng.choice(edges)["node"])

    async def handle(self, kind: str, order: dict[str, Any]) -> None:
        key = f"{kind}-{uuid.uuid4().hex}"
        fields: dict[str, Any] = {"orderId": order["id"], "idempotencyKey": key}
        request: dict[str, Any] = {}
        if kind == "ship":
            lines = [ln for ln in order["lines"] if ln["status"] == "ALLOCATED" and ln["location"]]
            if not lines:
                return
            where = lines[0]["location"]["id"]
            ids = [ln["id"] for ln in lines if ln["location"]["id"] == where]
            tracking = f"1Z{uuid.uuid4().hex[:16].upper()}"
            fields |= {
                "locationId": where,
                "carrier": "UPS",
                "trackingNumber": tracking,
                "lineIds": ids,
            }
            request = {"tracking": tracking, "lines": ids}
        elif kind == "cancel":
            fields["reason"] = "harness"
        else:
            ids = [ln["id"] for ln in order["lines"] if ln["status"] == "SHIPPED"]
            fields |= {"lineIds": ids, "restock": True, "reason": "harness"}
            request = {"lines": ids}
        query = {"ship": SHIP, "cancel": CANCEL, "return": RETURN}[kind]
        answer = await self.stage.hub.mutate(query, {"input": fields})
        shown = (answer.payload or {}).get("order") or {}
        channel = next((k for k, c in self.stage.channels.items() if c == order["channelId"]), None)
        external = order["externalId"] if channel else None  # a marketplace's order
        self.record(
            kind,
            answer,
            request,
            sorted({ln["sku"] for ln in order["lines"] if ln["sku"]}),
            key=key,
            order=order["id"],
            external=external,
            channel=channel,
            response={"status": shown.get("status")},
        )

    # Order pulls -------------------------------------------------------------------------

    async def puller(self) -> None:
        rng = self.rng("pull")
        for _ in range(self.cap(1 / self.plan.pull_every)):
            await asyncio.sleep(
                min(self.plan.pull_every, max(0.0, self.deadline - self.recorder.now()))
            )
            if self.over():
                return
            await self.pull(rng)

    async def pull(self, _rng: random.Random | None = None) -> None:
        t0 = self.recorder.now()
        outcome, problem = "accepted", None
        try:
            await self.pull_orders()
        except Exception as error:  # Redis down: the pull is lost, the cron one comes later
            outcome, problem = "unknown", f"{type(error).__name__}: {error}"
        self.recorder.op(
            "pull",
            outcome,
            t0=t0,
            t1=self.recorder.now(),
            request={},
            skus=[],
            errors=[{"code": "QUEUE", "message": problem}] if problem else [],
            attempts=[{"server": "redis"}],
        )
