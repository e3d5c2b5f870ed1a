"""`MercadoLibreSandbox`: a local MercadoLibre speaking its REST API, the OAuth token endpoint
and unsigned pointer notifications (see the package's modules for each part's rules).

Every API call goes the way MercadoLibre's edge takes it: injected faults first (the Shopify
sandbox's controls: a throttle is a 429 `too_many_requests` with no Retry-After, as
MercadoLibre sends it), then the access token (`Authorization: Bearer`, 401 without a live
one), the application's rate limit when one is set (429 as well), then the resource. The
refresh token works once: each refresh spends it and issues the next; a spent one is refused
(`invalid_grant`), as MercadoLibre does.

Control routes, for processes and benchmarks: `POST /_sandbox/orders {"lines": [["SKU", 1]],
"receiverAddress"?, "shippingMode"?}` (a buyer checks out; its notifications go out before
the answer), `POST /_sandbox/subscribe {"endpoint"}`, `POST /_sandbox/faults` (as Shopify's), `POST
/_sandbox/deliver`, `POST /_sandbox/shipments/{id}/advance` (ME2 moves on), `POST
/_sandbox/seed` (items made at once, for benchmarks), `POST /_sandbox/visits {"sku", "visits",
"day"?: "2026-12-01"}` (buyers open the item selling the SKU: see `visits`), `POST
/_sandbox/expire_tokens` and `GET /_sandbox/state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.mercadolibre.errors import MeliError, bad_request, not_found, too_many
from sandbox.mercadolibre.items import Store
from sandbox.mercadolibre.notifications import Notifier
from sandbox.mercadolibre.orders import Order, OrderBook
from sandbox.mercadolibre.validation import seller_sku
from sandbox.mercadolibre.visits import Visits
from sandbox.shopify.faults import Faults

TOKEN_SECONDS: Final = 21_600
MULTIGET: Final = 20
UP_STOCK_PER_MINUTE: Final = 100
FAILURES: Final = {
    502: ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: ("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", "text/html"),
}
Handler = Callable[..., Awaitable[tuple[int, Any, dict[str, str]]]]


def wall_time() -> datetime:
    return datetime.now(UTC)


class MercadoLibreSandbox:
    def __init__(
        self,
        *,
        client_id: str = "4242424242",
        client_secret: str = "sandbox-secret",
        refresh_token: str = "TG-sandbox-refresh",
        seller_id: int = 123456789,
        user_products: bool = False,
        notification_client: httpx.AsyncClient | None = None,
        wall_clock: Callable[[], datetime] = wall_time,
        calls_per_second: float | None = None,
        up_stock_per_minute: int = UP_STOCK_PER_MINUTE,
        deliver_in_background: bool = False,
        seed: int | None = None,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.seller_id = seller_id
        self.now = wall_clock
        self.faults = Faults(seed)
        self.store = Store(wall_clock, seller_id, user_products=user_products)
        self.orders = OrderBook(self.store, wall_clock)
        self.visits = Visits(self.store, wall_clock)
        self.notifier = Notifier(
            application_id=int(client_id) if client_id.isdigit() else 0,
            user_id=seller_id,
            client=notification_client,
            now=wall_clock,
            drop=self.faults.drop,
            duplicate=self.faults.duplicate,
        )
        self.refresh_tokens = {refresh_token}  # the live one(s): each works once
        self.spent: set[str] = set()
        self.refreshes = 0
        self.refused_grants = 0  # refreshes with a spent (or unknown) refresh token
        self.tokens: dict[str, datetime] = {}
        self.calls: list[dict[str, Any]] = []
        self.rate = calls_per_second
        self._bucket = (float(calls_per_second or 0), time.monotonic())
        self.up_stock_per_minute = up_stock_per_minute
        self._up_bucket = (float(up_stock_per_minute), wall_clock())
        self._background = deliver_in_background
        self._routes = _routes(self)
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/_sandbox/deliver", self._deliver, methods=["POST"]),
                Route("/_sandbox/faults", self._faults, methods=["POST"]),
                Route("/_sandbox/orders", self._place, methods=["POST"]),
                Route("/_sandbox/subscribe", self._subscribe, methods=["POST"]),
                Route("/_sandbox/seed", self._seed, methods=["POST"]),
                Route("/_sandbox/shipments/{id}/advance", self._advance, methods=["POST"]),
                Route("/_sandbox/state", self._state, methods=["GET"]),
                Route("/_sandbox/visits", self._visit, methods=["POST"]),
                Route("/_sandbox/expire_tokens", self._expire, methods=["POST"]),
                Route("/{path:path}", self._api, methods=["GET", "POST", "PUT", "DELETE"]),
            ],
            lifespan=self._lifespan,
        )

    # What the buyers and the merchant do --------------------------------------------------

    async def place_order(
        self,
        lines: list[tuple[str, int]],
        buyer: str = "buyer_one",
        ship_to: dict[str, Any] | None = None,
        mode: str | None = None,
    ) -> list[Order]:
        """A buyer checks out (to `ship_to`, a receiver_address, when given; shipped by `mode`
        when given, else as the item says); an `orders_v2` notification per order is sent."""
        orders = self.orders.place(lines, buyer, ship_to, mode)
        for order in orders:
            self.notifier.publish("orders_v2", f"/orders/{order.id}")
        await self.notifier.deliver_due()
        return orders

    async def cancel_order(self, sale: str) -> None:
        """The buyer cancels (every order of a pack); `orders_v2` says so."""
        for order in self.orders.of_sale(sale):
            self.orders.cancel(order.id)
            self.notifier.publish("orders_v2", f"/orders/{order.id}")
        await self.notifier.deliver_due()

    async def deliver_notifications(self) -> int:
        return await self.notifier.deliver_due()

    async def aclose(self) -> None:
        await self.notifier.aclose()

    # OAuth -------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "message": "invalid client_id or client_secret",
                    "status": 401,
                    "cause": [],
                },
                401,
            )
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "status": 400,
                    "message": "grant_type must be refresh_token",
                    "cause": [],
                },
                400,
            )
        given = form.get("refresh_token", "")
        if given not in self.refresh_tokens:
            self.refused_grants += 1
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "status": 400,
                    "cause": [],
                    "message": "Error validating grant. Your authorization code "
                    "or refresh token may be expired or it was already used",
                },
                400,
            )
        self.refresh_tokens.discard(given)  # spent: it works once
        self.spent.add(given)
        self.refreshes += 1
        following = f"TG-{secrets.token_hex(12)}-{self.seller_id}"
        self.refresh_tokens.add(following)
        token = f"APP_USR-{self.client_id}-{secrets.token_hex(12)}-{self.seller_id}"
        self.tokens[token] = self.now() + timedelta(seconds=TOKEN_SECONDS)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": "offline_access read write",
                "user_id": self.seller_id,
                "refresh_token": following,
            }
        )

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # The API -------------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        raw = await request.body()  # read first: a client giving up later does not unsend it
        delay = self.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        if self.faults.take_hang():
            self._log(request, 499, "hang")
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=499)
        injected = self._injected(request)
        if injected is not None:
            return injected
        headers: dict[str, str] = {}
        try:
            self._gate(request)
            body = json.loads(raw) if raw else None
            status, answer, headers = await self._route(request, body)
        except MeliError as failure:
            status, answer = failure.status, failure.body()
        except ValueError:
            status, answer = 400, bad_request("body is not JSON").body()
        self._log(request, status, None)
        response = JSONResponse(answer, status, headers=headers)
        if self.faults.take_garble():
            self._log(request, status, "garbled")
            return Response(
                response.body[: len(response.body) // 2], status, media_type="application/json"
            )
        return response

    def _injected(self, request: Request) -> Response | None:
        if self.faults.take_throttle() is not None:
            self._log(request, 429, "throttle")
            return JSONResponse(too_many().body(), 429)  # no Retry-After: MercadoLibre sends none
        failure = self.faults.take_failure()
        if failure is None:
            return None
        self._log(request, failure, f"fail_{failure}")
        if failure in FAILURES:
            text, media = FAILURES[failure]
            return Response(text, failure, media_type=media)
        return JSONResponse(MeliError(500, "internal_error", "Internal server error").body(), 500)

    def _gate(self, request: Request) -> None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        if expiry is None or expiry <= self.now():
            raise MeliError(401, "unauthorized_request_error", "invalid access token")
        if self.rate:
            tokens, at = self._bucket
            now = time.monotonic()
            tokens = min(self.rate, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._bucket = (tokens, now)
                raise too_many()
            self._bucket = (tokens - 1, now)

    def take_up_stock_call(self) -> None:
        """The user-products stock resource allows about 100 calls a minute (a minute's at
        once, then evenly)."""
        tokens, at = self._up_bucket
        now = self.now()
        per_second = self.up_stock_per_minute / 60
        tokens = min(self.up_stock_per_minute, tokens + (now - at).total_seconds() * per_second)
        if tokens < 1:
            self._up_bucket = (tokens, now)
            raise too_many()
        self._up_bucket = (tokens - 1, now)

    async def _route(self, request: Request, body: Any) -> tuple[int, Any, dict[str, str]]:
        path = request.url.path.rstrip("/") or "/"
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                query = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
                return await handler(request, body, query, *match.groups())
        raise not_found(f"Resource {request.method} {path}")

    def _log(self, request: Request, status: int, fault: str | None) -> None:
        self.calls.append(
            {"method": request.method, "path": request.url.path, "status": status, "fault": fault}
        )

    # Control -------------------------------------------------------------------------------

    async def _deliver(self, _request: Request) -> Response:
        return JSONResponse({"delivered": await self.deliver_notifications()})

    async def _place(self, request: Request) -> Response:
        given = json.loads(await request.body() or b"{}")
        try:
            lines = [(str(sku), int(quantity)) for sku, quantity in given["lines"]]
            ship_to = given.get("receiverAddress")
            if ship_to is not None and not isinstance(ship_to, dict):
                raise TypeError("receiverAddress is a receiver_address object")
            mode = given.get("shippingMode")
            if mode not in (None, "me1", "me2"):
                raise ValueError("shippingMode is me1 or me2")
            buyer = str(given.get("buyer") or "buyer_one")
            orders = await self.place_order(lines, buyer, ship_to, mode)
        except (KeyError, TypeError, ValueError) as problem:
            return JSONResponse({"error": str(problem)}, 409)
        sale = orders[0].pack_id or orders[0].id
        return JSONResponse({"sale": str(sale), "orders": [o.shown() for o in orders]}, 201)

    async def _subscribe(self, request: Request) -> Response:
        endpoint = str(json.loads(await request.body() or b"{}").get("endpoint") or "")
        if not endpoint.startswith(("http://", "https://")):
            return JSONResponse({"error": "endpoint must be a URL"}, 400)
        self.notifier.endpoint = endpoint
        return JSONResponse({"endpoint": endpoint})

    async def _advance(self, request: Request) -> Response:
        try:
            shipment = self.orders.advance(int(request.path_params["id"]))
        except (MeliError, ValueError) as problem:
            return JSONResponse({"error": repr(problem)}, 404)
        for order_id in shipment.order_ids:
            self.notifier.publish("shipments", f"/shipments/{shipment.id}")
            self.notifier.publish("orders_v2", f"/orders/{order_id}")
        await self.notifier.deliver_due()
        return JSONResponse(shipment.shown())

    async def _seed(self, request: Request) -> Response:
        """POST {"items": [item body, ...]}: items created at once (for benchmarks); their
        ids and variations."""
        given = json.loads(await request.body() or b"{}")
        try:
            made = [self.store.create(body) for body in given["items"]]
        except (KeyError, TypeError, MeliError) as problem:
            return JSONResponse({"error": repr(problem)}, 400)
        return JSONResponse(
            {
                "items": [
                    {
                        "id": i["id"],
                        "user_product_id": i.get("user_product_id"),
                        "variations": [
                            {
                                "id": v["id"],
                                "sku": next(
                                    (
                                        a["value_name"]
                                        for a in v["attributes"]
                                        if a.get("id") == "SELLER_SKU"
                                    ),
                                    None,
                                ),
                            }
                            for v in i["variations"]
                        ],
                    }
                    for i in made
                ]
            }
        )

    async def _visit(self, request: Request) -> Response:
        """POST {"sku", "visits", "day"?}: visits recorded on the item selling the SKU."""
        given = json.loads(await request.body() or b"{}")
        try:
            day = date.fromisoformat(given["day"]) if given.get("day") else None
            item_id = self.visits.record(str(given["sku"]), int(given["visits"]), day)
        except (KeyError, TypeError, ValueError) as problem:
            return JSONResponse({"error": str(problem)}, 409)
        return JSONResponse({"itemId": item_id})

    async def _expire(self, _request: Request) -> Response:
        """Every access token stops working (as when MercadoLibre revokes them)."""
        self.expire_tokens()
        return JSONResponse({"expired": True})

    async def _faults(self, request: Request) -> Response:
        self.faults.configure(json.loads(await request.body() or b"{}"))
        return JSONResponse(self.faults.snapshot())

    async def _state(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "items": [self.store.shown(i) for i in self.store.items.values()],
                "deleted_variations": self.store.deleted,
                "orders": [o.shown() for o in self.orders.orders.values()],
                "shipments": [s.shown() for s in self.orders.shipments.values()],
                "calls": len(self.calls),
                "refreshes": self.refreshes,
                "refused_grants": self.refused_grants,
                "offered": self._offered(),
                "parcels": {
                    str(s.id): [p["tracking_number"] for p in s.parcels]
                    for s in self.orders.shipments.values()
                },
                "throttled": sum(1 for c in self.calls if c["status"] == 429),
            }
        )

    def _offered(self) -> dict[str, int]:
        """What a buyer can buy of each SKU listed now."""
        offered: dict[str, int] = {}
        for item in self.store.items.values():
            if item["status"] != "active":
                continue
            nodes = item["variations"] or [None]
            for variation in nodes:
                sku = seller_sku((variation or item).get("attributes"))
                if sku:
                    offered[sku] = self.store.buyable(item, variation)
        return offered

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
        while True:
            await self.deliver_notifications()
            await asyncio.sleep(interval)


def _routes(sandbox: MercadoLibreSandbox) -> list[tuple[str, re.Pattern[str], Handler]]:
    from sandbox.mercadolibre.routes import Routes  # the routes read the sandbox

    return [(m, re.compile(p), h) for m, p, h in Routes(sandbox).table()]
