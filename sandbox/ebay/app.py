"""`EbaySandbox`: a local eBay speaking the Sell Inventory and Fulfillment APIs, the OAuth token
endpoint and the Notification API's public keys, and sending signed notifications.

Every call to the APIs goes the way eBay's gateway takes it: injected faults first (see
`sandbox.shopify.faults`: the same controls), then the user token (`Authorization: Bearer`,
401 errorId 1001 without a live one), the API's daily quota (429 errorId 2001 once used up:
Inventory 2,000,000 calls a day, Fulfillment 100,000, Notification 10,000 ~), the
`Content-Language` header on the writes whose spec names it, and the request body against
the operation's schema in eBay's spec (400 errorId 2004). Every answer the sandbox gives is
checked against the spec too: one that does not validate is recorded in `violations` (tests
assert there are none).

Control routes, for processes and benchmarks: `POST /_sandbox/orders {"lines": [["SKU", 1]]}`
(a buyer checks out; its notifications go out before the answer), `POST /_sandbox/subscribe
{"endpoint"}` (the notification destination, after the challenge), `POST /_sandbox/seed`
(published listings made at once, for benchmarks), `POST /_sandbox/faults` (as Shopify's),
`POST /_sandbox/deliver`, `POST /_sandbox/views {"sku", "views", "day"?}` (buyers view the
listing showing the SKU; read back through the Analytics API's traffic report, see
`sandbox.ebay.traffic`) and `GET /_sandbox/state`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.ebay import spec
from sandbox.ebay.errors import (
    INVALID_REQUEST,
    INVALID_TOKEN,
    INVALID_VALUE,
    SYSTEM_ERROR,
    TOO_MANY_REQUESTS,
    EbayError,
    error,
    refused,
)
from sandbox.ebay.notifications import ORDER_CONFIRMATION, Notifier
from sandbox.ebay.orders import Order, OrderBook
from sandbox.ebay.store import Store
from sandbox.ebay.traffic import Views, traffic_report
from sandbox.shopify.faults import Faults

TOKEN_PATH: Final = "/identity/v1/oauth2/token"
TOKEN_SECONDS: Final = 7200
ANALYTICS: Final = "sell_analytics_v1"
TRAFFIC_PATH: Final = "/sell/analytics/v1/traffic_report"
DAILY_QUOTAS: Final = {spec.INVENTORY: 2_000_000, spec.FULFILLMENT: 100_000,
                       spec.NOTIFICATION: 10_000, ANALYTICS: 400}  # fmt: skip
FAILURES: Final = {
    500: None,  # eBay's own errors[] body (see _failure)
    502: ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: ("<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html"),
}
Handler = Callable[["Call"], Awaitable[tuple[int, Any, dict[str, str]]]]


def wall_time() -> datetime:
    return datetime.now(UTC)


class Call:
    """One API request as a handler reads it."""

    def __init__(self, request: Request, op: spec.Operation, body: Any) -> None:
        self.request, self.op, self.body = request, op, body
        self.query = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
        base = next(b for b, name in spec.BASE_PATHS.items() if name == op.spec)
        segments = request.url.path.removeprefix(base).strip("/").split("/")
        names = op.template.strip("/").split("/")
        self.params = {
            n[1:-1]: s for n, s in zip(names, segments, strict=False) if n.startswith("{")
        }


class EbaySandbox:
    def __init__(
        self,
        *,
        client_id: str = "nexo-sandbox-app",
        client_secret: str = "sandbox-secret",
        refresh_token: str = "v^1.1#sandbox-refresh",
        verification_token: str = "sandbox-verification-token-0123456789abcdef",
        notification_client: httpx.AsyncClient | None = None,
        wall_clock: Callable[[], datetime] = wall_time,
        quotas: dict[str, int] | None = None,
        deliver_in_background: bool = False,
        seed: int | None = None,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token = refresh_token
        self.now = wall_clock
        self.faults = Faults(seed)
        self.store = Store(wall_clock)
        self.orders = OrderBook(self.store, wall_clock)
        self.notifier = Notifier(
            verification_token=verification_token, client=notification_client, now=wall_clock,
            drop=self.faults.drop, duplicate=self.faults.duplicate,
        )  # fmt: skip
        self.quotas = {**DAILY_QUOTAS, **(quotas or {})}
        self.used: dict[tuple[str, date], int] = {}
        self.tokens: dict[str, datetime] = {}
        self.calls: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.views: Views = {}  # (listing id, day) -> views of its View Item page
        self.transactions: Views = {}  # (listing id, day) -> line items sold
        self._background = deliver_in_background
        self._handlers = _handlers(self)
        self.app = Starlette(
            routes=[
                Route(TOKEN_PATH, self._token, methods=["POST"]),
                Route("/_sandbox/deliver", self._deliver, methods=["POST"]),
                Route("/_sandbox/faults", self._faults, methods=["POST"]),
                Route("/_sandbox/orders", self._place, methods=["POST"]),
                Route("/_sandbox/subscribe", self._subscribe, methods=["POST"]),
                Route("/_sandbox/seed", self._seed, methods=["POST"]),
                Route("/_sandbox/state", self._state, methods=["GET"]),
                Route("/_sandbox/views", self._view, methods=["POST"]),
                Route(TRAFFIC_PATH, self._traffic, methods=["GET"]),
                Route("/{path:path}", self._api, methods=["GET", "POST", "PUT", "DELETE"]),
            ],
            lifespan=self._lifespan,
        )

    # What the buyers and the merchant do --------------------------------------------------

    async def place_order(
        self,
        lines: list[tuple[str, int]],
        buyer: str = "buyer_one",
        ship_to: dict[str, str] | None = None,
    ) -> Order:
        """A buyer checks out (to `ship_to`, an Address, when given); one ORDER_CONFIRMATION
        per line item is sent."""
        order = self.orders.place(lines, buyer, ship_to)
        today = self.now().date()
        for line in order.lines:
            offer = self.store.listed_offer(line.sku)
            if offer is not None and offer.listing_id:
                key = (offer.listing_id, today)
                self.transactions[key] = self.transactions.get(key, 0) + 1
            self.notifier.publish(
                ORDER_CONFIRMATION,
                {"orderId": order.order_id, "lineItemId": line.line_id, "sku": line.sku},
            )
        await self.notifier.deliver_due()
        return order

    async def deliver_notifications(self) -> int:
        return await self.notifier.deliver_due()

    async def aclose(self) -> None:
        await self.notifier.aclose()

    # OAuth -------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        """The refresh-token grant: Basic client credentials, a user token for 2 hours."""
        given = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if given != f"Basic {expected}":
            body = {"error": "invalid_client", "error_description": "client authentication failed"}
            return JSONResponse(body, 401)
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if form.get("refresh_token") != self.refresh_token:
            body = {"error": "invalid_grant", "error_description": "the refresh token is invalid"}
            return JSONResponse(body, 400)
        token = f"v^1.1#i^1#sandbox#{secrets.token_urlsafe(24)}"
        self.tokens[token] = self.now() + timedelta(seconds=TOKEN_SECONDS)
        return JSONResponse(
            {"access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "User Access Token"}
        )

    def view(self, sku: str, views: int, day: date | None = None) -> str:
        """Buyers open the View Item page of the listing showing `sku`; its listing id."""
        offer = self.store.listed_offer(sku)
        if offer is None or not offer.listing_id or views < 0:
            raise ValueError(f"no listing shows {sku!r}")
        key = (offer.listing_id, day or self.now().date())
        self.views[key] = self.views.get(key, 0) + views
        return offer.listing_id

    def expire_tokens(self) -> None:
        """Every user token stops working (as when eBay revokes them)."""
        self.tokens.clear()

    # The APIs ------------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        raw = await request.body()  # read first: a client giving up later does not unsend it
        delay = self.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        path = request.url.path
        op = spec.operation(request.method, path)
        if op is None:
            return self._answer(request, None, 404, {"errors": [error(
                2002, f"Resource not found: {request.method} {path}")]})  # fmt: skip
        if self.faults.take_hang():
            self._log(request, 499, "hang")
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=499)
        injected = self._injected(request)
        if injected is not None:
            return injected
        try:
            self._gate(request, op, raw)
            body = json.loads(raw) if raw else None
            problems = spec.request_errors(request.method, path, body)
            if problems:
                raise EbayError(400, [error(INVALID_REQUEST, "The request has errors. "
                                            + "; ".join(problems)[:1500])])  # fmt: skip
            status, answer, headers = await self._handlers[(op.method, op.template)](
                Call(request, op, body)
            )
        except EbayError as failure:
            status, answer, headers = failure.status, failure.body(), {}
        except ValueError:
            status, answer, headers = 400, {"errors": [error(INVALID_REQUEST, "Not JSON")]}, {}
        response = self._answer(request, op, status, answer, headers)
        if self.faults.take_garble():
            self._log(request, status, "garbled")
            cut = response.body[: len(response.body) // 2]
            return Response(cut, status, media_type="application/json")
        return response

    async def _traffic(self, request: Request) -> Response:
        """The Analytics API's getTrafficReport (no published spec kept here to check it)."""
        injected = self._injected(request)
        if injected is not None:
            return injected
        op = spec.Operation(ANALYTICS, "GET", "/traffic_report", None, {}, frozenset())
        try:
            self._gate(request, op, b"")
            query = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
            body = traffic_report(query, self.views, self.transactions,
                                  set(self.store.listings), self.now().date())  # fmt: skip
        except EbayError as failure:
            return self._answer(request, None, failure.status, failure.body())
        return self._answer(request, None, 200, body)

    def _injected(self, request: Request) -> Response | None:
        throttle = self.faults.take_throttle()
        if throttle is not None:
            self._log(request, 429, "throttle")
            return JSONResponse(_too_many(), 429)
        failure = self.faults.take_failure()
        if failure is None:
            return None
        self._log(request, failure, f"fail_{failure}")
        given = FAILURES[failure]
        if given is None:
            body = {"errors": [error(SYSTEM_ERROR, "A system error has occurred.",
                                     category="APPLICATION")]}  # fmt: skip
            return JSONResponse(body, failure)
        return Response(given[0], failure, media_type=given[1])

    def _gate(self, request: Request, op: spec.Operation, raw: bytes) -> None:
        """Token, quota and headers, as eBay's gateway checks them before the API runs."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        if expiry is None or expiry <= self.now():
            raise refused(401, INVALID_TOKEN, "Invalid access token", domain="OAuth",
                          long_message="Invalid access token. Check the value of the "
                          "Authorization HTTP request header.")  # fmt: skip
        day = (op.spec, self.now().date())
        if self.used.get(day, 0) >= self.quotas[op.spec]:
            raise EbayError(429, _too_many()["errors"])
        self.used[day] = self.used.get(day, 0) + 1
        if "content-language" in op.headers and op.method in ("PUT", "POST"):
            language = request.headers.get("content-language", "")
            if language not in ("en-US", "en-GB", "en-AU", "en-CA", "de-DE", "fr-FR", "it-IT",
                                "es-ES"):  # fmt: skip
                raise refused(400, INVALID_VALUE, "Invalid value for header Content-Language.",
                              parameters={"Content-Language": language})  # fmt: skip
        if raw and not request.headers.get("content-type", "").startswith("application/json"):
            raise refused(415, 2004, "Unsupported media type: send application/json")

    def _answer(
        self,
        request: Request,
        op: spec.Operation | None,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if op is not None:
            problems = spec.response_errors(request.method, request.url.path, status, body)
            self.violations += [f"{request.method} {request.url.path} {status}: {p}"
                                for p in problems]  # fmt: skip
        self._log(request, status, None)
        headers = {"X-EBAY-C-REQUEST-ID": str(uuid.uuid4()), **(headers or {})}
        if body is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse(body, status, headers=headers)

    def _log(self, request: Request, status: int, fault: str | None) -> None:
        self.calls.append({"method": request.method, "path": request.url.path,
                           "status": status, "fault": fault})  # fmt: skip

    # Control (for processes and benchmarks) -------------------------------------------------

    async def _deliver(self, _request: Request) -> Response:
        return JSONResponse({"delivered": await self.deliver_notifications()})

    async def _place(self, request: Request) -> Response:
        """POST {"lines": [["SKU", 1], ...], "buyer"?, "shipTo"?: {"countryCode", ...}}: a
        buyer checks out (its notifications sent before the answer); 409 when the listing
        cannot sell that many."""
        given = json.loads(await request.body() or b"{}")
        try:
            lines = [(str(sku), int(quantity)) for sku, quantity in given["lines"]]
            ship_to = {str(k): str(v) for k, v in given["shipTo"].items()} if given.get(
                "shipTo") else None  # fmt: skip
            order = await self.place_order(lines, str(given.get("buyer") or "buyer_one"), ship_to)
        except (KeyError, TypeError, ValueError) as problem:
            return JSONResponse({"error": str(problem)}, 409)
        return JSONResponse(order.shown(), 201)

    async def _subscribe(self, request: Request) -> Response:
        """POST {"endpoint": URL}: the notification destination, after eBay's challenge."""
        endpoint = str(json.loads(await request.body() or b"{}").get("endpoint") or "")
        try:
            await self.notifier.subscribe(endpoint)
        except (ValueError, httpx.HTTPError) as problem:
            return JSONResponse({"error": str(problem)}, 400)
        return JSONResponse({"endpoint": endpoint})

    async def _seed(self, request: Request) -> Response:
        """POST {"skus", "groupSize", "offer", "quantity"?}: published listings made at once
        (see `Store.seed`); {"listings": {sku: listing id}}."""
        given = json.loads(await request.body() or b"{}")
        try:
            listed = self.store.seed(
                [str(sku) for sku in given["skus"]], int(given.get("groupSize") or 1),
                dict(given["offer"]), int(given.get("quantity") or 0),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, EbayError) as problem:
            return JSONResponse({"error": repr(problem)}, 400)
        return JSONResponse({"listings": listed})

    async def _view(self, request: Request) -> Response:
        """POST {"sku", "views", "day"?: "2026-12-01"}: buyers view the SKU's listing."""
        given = json.loads(await request.body() or b"{}")
        try:
            day = date.fromisoformat(given["day"]) if given.get("day") else None
            listing_id = self.view(str(given["sku"]), int(given["views"]), day)
        except (KeyError, TypeError, ValueError) as problem:
            return JSONResponse({"error": str(problem)}, 400)
        return JSONResponse({"listingId": listing_id})

    async def _faults(self, request: Request) -> Response:
        self.faults.configure(json.loads(await request.body() or b"{}"))
        return JSONResponse(self.faults.snapshot())

    async def _state(self, _request: Request) -> Response:
        return JSONResponse({
            "items": self.store.buyable_all(),
            "revisions": {lid: self.store.revisions_today(lid) for lid in self.store.listings},
            "groups": {key: {**g, "listed": any(lst.group_key == key
                                                 for lst in self.store.listings.values())}
                       for key, g in self.store.groups.items()},
            "orders": [o.shown() for o in self.orders.orders.values()],
            "fulfillments": {o.order_id: [o.fulfillment_shown(f) for f in o.fulfillments]
                             for o in self.orders.orders.values()},
            "calls": len(self.calls),
            "public_key_id": self.notifier.kid,
            "bulk_calls": sum(1 for c in self.calls if c["path"].endswith("price_quantity")),
            "violations": self.violations,
        })  # fmt: skip

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


def _too_many() -> dict[str, Any]:
    return {"errors": [error(TOO_MANY_REQUESTS, "Too many requests.", domain="ACCESS",
                             long_message="The request limit has been reached for the "
                             "resource.")]}  # fmt: skip


def _handlers(sandbox: EbaySandbox) -> dict[tuple[str, str], Handler]:
    from sandbox.ebay.routes import Routes  # the routes read the sandbox: imported late

    return Routes(sandbox).table()
