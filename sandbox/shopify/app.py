"""`ShopifySandbox`: a local shop speaking the Admin GraphQL API 2026-01 and sending webhooks.

The HTTP face is `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token` (401
without it, 400 for a body that is not JSON) plus the `/_sandbox/*` control routes (see
`control`). The Python face lets tests act as the merchant or a customer (`place_order`,
`edit_inventory`, `view`), read the shop's state, and drive webhook delivery with an injected clock
(monotonic: the cost bucket and webhook retries; the shop's timestamps read `wall_clock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from datetime import date, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.shopify import orders
from sandbox.shopify.control import control_routes
from sandbox.shopify.cost import LeakyBucket
from sandbox.shopify.execution import Answer, GraphQLEndpoint
from sandbox.shopify.faults import Faults
from sandbox.shopify.ids import gid, parse_gid
from sandbox.shopify.inventory import apply_named_quantity
from sandbox.shopify.models import Location
from sandbox.shopify.schema import API_VERSION, admin_schema
from sandbox.shopify.state import product_state
from sandbox.shopify.store import Store, wall_time
from sandbox.shopify.webhooks import DEFAULT_TOPICS, WebhookOutbox

UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MISSING_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}
FAILURE_BODIES: dict[int, tuple[str, str]] = {
    500: ('{"errors":"Internal Server Error"}', "application/json"),
    502: ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: ('{"errors":"Service Unavailable"}', "application/json"),
}


class ShopifySandbox:
    def __init__(
        self,
        *,
        shop: str = "nexo-demo",
        access_token: str = "shpat_sandbox",
        api_secret: str = "sandbox-secret",
        restore_rate: float = 100.0,
        bucket_size: float = 2000.0,
        webhook_url: str | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = wall_time,
        webhook_topics: Collection[str] = DEFAULT_TOPICS,
        currency: str = "USD",
        deliver_in_background: bool = False,
        seed: int | None = None,
    ) -> None:
        admin_schema()  # built now, so that the first call is not the slow one
        self.shop, self.access_token = shop, access_token
        self.faults = Faults(seed)
        self.calls: list[dict[str, Any]] = []
        self._store = Store(
            shop=shop, currency=currency, wall_clock=wall_clock, publish=self._publish
        )
        self._bucket = LeakyBucket(bucket_size, restore_rate, clock)
        self._graphql = GraphQLEndpoint(self._store, self._bucket)
        self._outbox = WebhookOutbox(
            shop_domain=f"{shop}.myshopify.com",
            api_version=API_VERSION,
            secret=api_secret,
            url=webhook_url,
            client=webhook_client,
            clock=clock,
            faults=self.faults,
            topics=webhook_topics,
        )
        self._background = deliver_in_background
        self.add_location("Shop location")
        self.app = Starlette(
            routes=[
                Route("/admin/api/{version}/graphql.json", self._admin_graphql, methods=["POST"]),
                *control_routes(self),
            ],
            lifespan=self._lifespan,
        )

    # -- what tests read -------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    @property
    def webhook_log(self) -> list[dict[str, Any]]:
        return self._outbox.log

    @property
    def webhooks(self) -> WebhookOutbox:
        return self._outbox

    def inventory_quantity(
        self, sku: str, location_gid: str, name: str = "available"
    ) -> int | None:
        variants = self._store.variants_by_sku(sku)
        location_id = parse_gid(location_gid, "Location")
        if not variants or location_id is None:
            return None
        level = self._store.level(variants[0].inventory_item.id, location_id)
        return level.get(name) if level else None

    def product_by_handle(self, handle: str) -> dict[str, Any] | None:
        product = self._store.product_by_handle(handle)
        return product_state(product) if product else None

    # -- what the merchant and the customers do --------------------------------------------

    def add_location(self, name: str) -> str:
        now = self._store.now()
        location = Location(self._store.next_location_id(), name, now, now)
        self._store.locations[location.id] = location
        return gid("Location", location.id)

    async def place_order(
        self,
        lines: list[tuple[str, int]],
        *,
        customer: dict[str, Any] | None = None,
        location_gid: str | None = None,
        shipping_address: dict[str, Any] | None = None,
    ) -> str:
        """A customer checks out (to `shipping_address`, in the REST Order's words: address1,
        city, province_code, zip, country_code…); sends orders/create (and
        inventory_levels/update)."""
        location = self._location(location_gid)
        order = orders.place_order(self._store, lines, customer, location, shipping_address)
        await self.deliver_pending_webhooks()
        return gid("Order", order.id)

    async def cancel_order(self, order_gid: str, *, restock: bool = True) -> None:
        """The merchant cancels an order in Shopify admin; sends orders/cancelled and
        orders/updated."""
        order = self._store.orders.get(parse_gid(order_gid, "Order") or -1)
        if order is None:
            raise ValueError(f"no order {order_gid!r}")
        orders.cancel_order(self._store, order, restock=restock)
        await self.deliver_pending_webhooks()

    def view(self, sku: str, sessions: int, day: date | None = None) -> str:
        """Shoppers open the page of the product selling `sku` in `sessions` sessions on `day`
        (today by default), as ShopifyQL's products.view_sessions counts; the product's gid."""
        variants = self._store.variants_by_sku(sku)
        if not variants or sessions < 0:
            raise ValueError(f"no variant sells {sku!r}" if not variants else "sessions >= 0")
        product = variants[0].product
        key = (product.id, day or self._store.now().date())
        self._store.views[key] = self._store.views.get(key, 0) + sessions
        return gid("Product", product.id)

    async def edit_inventory(self, sku: str, location_gid: str, available: int) -> None:
        """The merchant types a new available count in Shopify admin."""
        variants = self._store.variants_by_sku(sku)
        if not variants:
            raise ValueError(f"no variant has SKU {sku!r}")
        level = self._store.stock(variants[0].inventory_item, self._location(location_gid))
        apply_named_quantity(self._store, level, "available", available)
        await self.deliver_pending_webhooks()

    async def deliver_pending_webhooks(self) -> int:
        return await self._outbox.deliver_due()

    async def aclose(self) -> None:
        await self._outbox.aclose()

    def _location(self, location_gid: str | None) -> Location:
        if location_gid is None:
            return self._store.primary_location
        location = self._store.locations.get(parse_gid(location_gid, "Location") or -1)
        if location is None:
            raise ValueError(f"no location {location_gid!r}")
        return location

    def _publish(self, topic: str, body: dict[str, Any]) -> None:
        triggered_at = self._store.now().strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
        self._outbox.publish(topic, body, triggered_at)

    # -- HTTP ------------------------------------------------------------------------------

    async def _admin_graphql(self, request: Request) -> Response:
        # The request is read before the injected latency, as a real server has it once the
        # client sent it: a client that then gives up does not unsend it.
        await request.body()
        delay = self.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        headers = {"X-Request-Id": str(uuid.uuid4()), "X-Shopify-API-Version": API_VERSION}
        if self.faults.take_hang():
            self._log(Answer(499, {}), fault="hang")
            await _client_gone(request)
            return Response(status_code=499)  # nginx's "client closed request": no one reads it
        failure = self.faults.take_failure()
        if failure is not None:
            content, media_type = FAILURE_BODIES[failure]
            self._log(Answer(failure, {}), fault=f"fail_{failure}")
            return Response(content, failure, headers=headers, media_type=media_type)
        if request.headers.get("x-shopify-access-token") != self.access_token:
            self._log(Answer(401, {}))
            return JSONResponse({"errors": UNAUTHORIZED}, 401, headers=headers)
        payload = await _payload(request)
        if payload is None:
            self._log(Answer(400, {}))
            return JSONResponse(MISSING_QUERY, 400, headers=headers)
        answer = self._graphql.run(payload, force_throttle=self.faults.take_throttle())
        if self.faults.take_garble():
            self._log(answer, fault="garbled")
            whole = json.dumps(answer.body).encode()
            cut = whole[: len(whole) // 2]
            return Response(cut, answer.status, {**headers, **answer.headers}, "application/json")
        self._log(answer)
        return JSONResponse(answer.body, answer.status, headers={**headers, **answer.headers})

    def _log(self, answer: Answer, fault: str | None = None) -> None:
        self.calls.append(
            {
                "operation": answer.operation,
                "type": answer.kind,
                "root_fields": answer.root_fields,
                "requested_cost": answer.requested_cost,
                "actual_cost": answer.actual_cost,
                "throttled": answer.throttled,
                "status": answer.status,
                "fault": fault,
            }
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        pump = asyncio.create_task(self._pump()) if self._background else None
        try:
            yield
        finally:
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            await self.aclose()

    async def _pump(self, interval: float = 0.2) -> None:
        """For the standalone process: deliver webhooks as they fall due."""
        while True:
            await self.deliver_pending_webhooks()
            await asyncio.sleep(interval)


async def _client_gone(request: Request) -> None:
    """Wait until the client hangs up (the body was read: only the disconnect is left)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _payload(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/graphql"):
        return {"query": raw.decode(errors="replace")}
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    return payload
