"""`AmazonSandbox`: one seller account speaking the Selling Partner API, over HTTP.

- `POST /auth/o2/token`: Login with Amazon's refresh-token grant (1 h access tokens);
- Listings Items 2021-08-01 (PUT, PATCH, GET, DELETE, search by SKU), Feeds 2021-06-30,
  Reports 2021-06-30 (GET_SALES_AND_TRAFFIC_REPORT, see `reports`), Orders 2026-01-01
  (search, get) and v0 (shipmentConfirmation), each answering 403 without a
  valid `x-amz-access-token`, 429 `QuotaExceeded` past its documented token bucket (rate and
  burst read from the official model), with `x-amzn-RateLimit-Limit` and `x-amzn-RequestId`;
- `POST /sqs` (SQS JSON protocol, signed with SigV4 by `sqs_keys`): the seller's
  notification queue (see `queue`);
- `/_sandbox/*`: control for tests, the e2e and the bench (act as buyers and the seller, read
  the account, inject faults).

Every request body an operation receives and every answer it gives is validated against the
operation's schema in the official model: a request that does not validate is refused (400
InvalidInput) and an answer that does not is recorded in `violations` (tests assert none).
Time is `clock` (epoch seconds): queued listing changes and feeds fall due by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox import SENT_PATH
from sandbox.amazon import contract, queue
from sandbox.amazon.store import Seller, _errors
from sandbox.shopify.faults import Faults

_FAILED = "We encountered an internal error. Please try again."
FAILURES: dict[int, tuple[str, str]] = {
    500: (
        json.dumps({"errors": [{"code": "InternalFailure", "message": _FAILED}]}),
        "application/json",
    ),
    502: ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: (
        '{"errors":[{"code":"ServiceUnavailable","message":"Service temporarily unavailable."}]}',
        "application/json",
    ),
}
QUOTA = _errors("QuotaExceeded", "You exceeded your quota for the requested resource.")
DENIED = _errors("Unauthorized", "Access to requested resource is denied.")
MAX_PAGE = 100
Handler = Callable[["AmazonSandbox", Request, Any], tuple[int, Any]]


class Answer(Exception):
    """Raised by a handler to answer at once."""

    def __init__(self, status: int, body: Any = None):
        self.status, self.body = status, body


class AmazonSandbox:
    def __init__(
        self,
        *,
        seller_id: str = "A2SANDBOXSELLER1",
        marketplace_id: str = "ATVPDKIKX0DER",
        currency: str = "USD",
        client_id: str = "amzn1.application-oa2-client.sandbox",
        client_secret: str = "sandbox-client-secret",
        refresh_token: str = "Atzr|sandbox-refresh-token",
        clock: Callable[[], float] = time.time,
        apply_delay: float = 1.0,
        feed_rate: float = 2000.0,
        settle_in_background: bool = False,
        seed: int | None = None,
        sqs_keys: queue.SqsKeys | None = None,
    ) -> None:
        self.faults = Faults(seed)
        self.sqs_keys = sqs_keys or queue.SqsKeys()
        self.seller = Seller(
            seller_id, marketplace_id, currency, client_id, client_secret, refresh_token,
            clock, self.faults, apply_delay, feed_rate, seed,
        )  # fmt: skip
        self.calls: list[dict[str, Any]] = []
        self._background = settle_in_background
        routes: list[BaseRoute] = [
            Route("/auth/o2/token", self._token, methods=["POST"]),
            Route("/sqs", self._sqs, methods=["POST"]),
            Route("/feed-documents/{document_id}", self._document, methods=["PUT", "GET"]),
            Route("/report-documents/{document_id}", self._report_document, methods=["GET"]),
            Route("/{path:path}", self._api, methods=["GET", "PUT", "PATCH", "POST", "DELETE"]),
        ]
        from sandbox.amazon.control import control_routes

        self.app = Starlette(routes=control_routes(self) + routes, lifespan=self._lifespan)

    # HTTP ------------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        status, body = self.seller.grant(form)
        return JSONResponse(body, status)

    async def _sqs(self, request: Request) -> Response:
        self.seller.settle()
        raw = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        # Signed as sent: the path on the wire (a host serving this sandbox under a prefix
        # keeps it under SENT_PATH), not the one this app routes on.
        url = str(request.url.replace(path=request.scope.get(SENT_PATH, request.url.path)))
        refused = queue.refusal(self.sqs_keys, "POST", url, headers, raw)
        if refused is not None:
            return JSONResponse(refused, 403, media_type="application/x-amz-json-1.0")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(queue.sqs_error("InvalidParameterValue", "not JSON"), 400)
        status, answer = queue.handle(
            self.seller.queue, request.headers.get("x-amz-target", ""), body
        )
        return JSONResponse(answer, status, media_type="application/x-amz-json-1.0")

    async def _document(self, request: Request) -> Response:
        """The pre-signed URL of a feed document: upload (PUT) or download (GET)."""
        document = self.seller.feeds.documents.get(request.path_params["document_id"])
        if document is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", 404)
        if request.method == "PUT":
            document.content = await request.body()
            return Response(status_code=200)
        return Response(document.content or b"", 200, media_type=document.content_type)

    async def _report_document(self, request: Request) -> Response:
        """The pre-signed URL of a report document: its GZIP bytes."""
        content = self.seller.reports.documents.get(request.path_params["document_id"])
        if content is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", 404)
        return Response(content, 200, media_type="application/json")

    async def _api(self, request: Request) -> Response:
        await request.body()
        delay = self.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id}
        if self.faults.take_hang():
            self._log(request, 499, "hang")
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=499)
        failure = self.faults.take_failure()
        if failure is not None:
            content, media_type = FAILURES[failure]
            self._log(request, failure, f"fail_{failure}")
            return Response(content, failure, headers=headers, media_type=media_type)
        from sandbox.amazon.routes import route  # the routes name this module's Answer

        try:
            operation, handler = route(request)
        except Answer as refused:
            self._log(request, refused.status, None)
            return JSONResponse(refused.body, refused.status, headers=headers)
        if not self.seller.token_valid(request.headers.get("x-amz-access-token")):
            self._log(request, 403, None, operation)
            return JSONResponse(DENIED, 403, headers=headers)
        spec = contract.operations()[operation]
        if self.faults.take_throttle() is not None or self.seller.throttled(operation):
            self._log(request, 429, None, operation)
            return JSONResponse(QUOTA, 429, headers=headers)
        headers["x-amzn-RateLimit-Limit"] = f"{spec.rate * self.seller.rate_scale:g}"
        self.seller.settle()
        status, answer = await self._handle(operation, handler, request)
        try:
            contract.check_response(operation, status, answer)
        except contract.ContractViolation as violation:
            self.seller.violations.append(str(violation))
        if self.faults.take_garble():
            self._log(request, status, "garbled", operation)
            whole = json.dumps(answer).encode()
            return Response(whole[: len(whole) // 2], status, headers, "application/json")
        self._log(request, status, None, operation)
        if answer is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse(answer, status, headers=headers)

    async def _handle(self, operation: str, handler: Handler, request: Request) -> tuple[int, Any]:
        """The operation's answer to a request that validates; 400 InvalidInput otherwise."""
        try:
            body = await _json_body(request) if contract.operations()[operation].request else None
            if body is not None:
                contract.check_request(operation, body)
            return handler(self, request, body)
        except contract.ContractViolation as violation:
            return 400, _errors("InvalidInput", violation.message)
        except Answer as early:
            return early.status, early.body

    def _log(
        self, request: Request, status: int, fault: str | None, operation: str | None = None
    ) -> None:
        self.calls.append(
            {"operation": operation, "method": request.method, "path": request.url.path,
             "status": status, "fault": fault}
        )  # fmt: skip

    # Python face: buyers and the seller --------------------------------------------------------

    def place_order(
        self,
        lines: list[tuple[str, int]],
        *,
        fulfilled_by: str = "MERCHANT",
        ship_to: dict[str, str] | None = None,
    ) -> str:
        return self.seller.place_order(lines, fulfilled_by=fulfilled_by, ship_to=ship_to)

    def view(
        self, sku: str, page_views: int, day: date | None = None, sessions: int | None = None
    ) -> None:
        """Buyers open `sku`'s detail page on `day` (today by default), as the sales and
        traffic report counts page views and sessions."""
        today = datetime.fromtimestamp(self.seller.clock(), UTC).date()
        self.seller.reports.view(sku, page_views, day or today, sessions)

    def cancel_order(self, order_id: str) -> None:
        self.seller.cancel_order(order_id)

    def edit(self, sku: str, *, quantity: int | None = None, price: Decimal | None = None) -> None:
        self.seller.edit(sku, quantity=quantity, price=price)

    @property
    def violations(self) -> list[str]:
        return self.seller.violations

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

    async def _pump(self, interval: float = 0.1) -> None:
        """For the standalone process: queued changes and feeds happen as they fall due."""
        while True:
            self.seller.settle()
            await asyncio.sleep(interval)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise Answer(400, _errors("InvalidInput", "The request body is not JSON")) from None


def page_size(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Answer(400, _errors("InvalidInput", f"maxResultsPerPage must be 1-{MAX_PAGE}"))
    return int(raw)
