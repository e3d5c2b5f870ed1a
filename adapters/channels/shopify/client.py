"""Shopify's Admin GraphQL API over HTTP: authentication, the cost bucket, typed failures.

The contract (channel-contracts §1): `POST https://{shop}/admin/api/{version}/graphql.json`
with `X-Shopify-Access-Token`. Shopify meters each app and shop by calculated query cost in
a leaky bucket; every answer reports it in `extensions.cost.throttleStatus`
{maximumAvailable, currentlyAvailable, restoreRate}. A call the bucket cannot pay is
answered `errors[].extensions.code == "THROTTLED"`, with HTTP 200 or 429.

So each call first takes its estimated cost from the shared limiter (one bucket per shop,
`shopify:{shop_domain}`), and each answer corrects the limiter with Shopify's own figure
and teaches the client the shop's real bucket size and restore rate (they depend on its
plan). Failures become the channel port's: THROTTLED → ChannelThrottled, 5xx / timeouts /
garbage → ChannelUnavailable, 401/403 → ChannelMisconfigured, other GraphQL errors →
ChannelRejected.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from adapters.channel_kit import calls
from adapters.logging import get_logger
from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
)
from domain.sync.rate_limits import BucketSpec, RateLimiter

log = get_logger(__name__)

API_VERSION: Final = "2026-01"
# The Standard plan's bucket (restore 100/s, about 20 s of it); each answer corrects it.
DEFAULT_BUCKET: Final = BucketSpec(capacity=2000.0, rate=100.0)

_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
_OUTCOMES: Final[dict[type[ChannelFailure], str]] = {
    ChannelThrottled: "throttled",
    ChannelUnavailable: "unavailable",
    ChannelRejected: "rejected",
    ChannelMisconfigured: "misconfigured",
}
# Shop-level refusals: wrong domain or version (404), frozen for unpaid bills (402),
# locked by Shopify (423). Retrying cannot help until someone acts.
_MISCONFIGURED_STATUSES: Final = {
    401: "bad access token",
    402: "shop is frozen",
    403: "access token lacks permission",
    404: "no such shop or API version",
    423: "shop is locked",
}


def operation_name(document: str) -> str:
    found = _OPERATION.match(document)
    return found.group(1) if found else "anonymous"


@dataclass(slots=True)
class _Call:
    """What one call learnt, for the log line."""

    operation: str
    cost: float | None = None
    available: float | None = None
    error: str | None = None


class ShopifyClient:
    """One shop's Admin GraphQL endpoint, behind the shared rate limiter."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        api_version: str = API_VERSION,
        timeout: float = 10,
        bucket: BucketSpec = DEFAULT_BUCKET,
        base_url: str | None = None,
    ):
        self.shop_domain = shop_domain
        # `base_url` points a shop at a local emulator (the sandbox); shops are https only.
        origin = (base_url or f"https://{shop_domain}").rstrip("/")
        self.url = f"{origin}/admin/api/{api_version}/graphql.json"
        self.limiter_key = f"shopify:{shop_domain}"
        self._token = access_token
        self._http = http
        self._limiter = limiter
        self._timeout = timeout
        self.bucket = bucket
        # Estimated cost of this client's calls granted but not yet answered (see _learn).
        self._in_flight = 0.0

    async def execute(
        self, document: str, variables: dict[str, Any], *, estimated_cost: float
    ) -> dict[str, Any]:
        """Run one document; returns its `data`, or raises a ChannelFailure."""
        call = _Call(operation_name(document))
        queued = time.perf_counter()
        await self._limiter.acquire(self.limiter_key, self.bucket, tokens=estimated_cost)
        started = time.perf_counter()
        outcome = "ok"
        self._in_flight += estimated_cost
        try:
            response = await self._post(document, variables)
            return await self._read(response, call, estimated_cost)
        except ChannelFailure as failure:
            outcome = _OUTCOMES.get(type(failure), "failed")
            call.error = failure.message
            raise
        finally:
            self._in_flight -= estimated_cost
            calls.record("shopify", outcome, time.perf_counter() - started)
            emit = log.info if outcome == "ok" else log.warning
            emit(
                "channel.call",
                channel="shopify",
                shop=self.shop_domain,
                operation=call.operation,
                outcome=outcome,
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
                waited_ms=round((started - queued) * 1000, 1),
                cost=call.cost,
                available=call.available,
                error=call.error,
            )

    async def _post(self, document: str, variables: dict[str, Any]) -> httpx.Response:
        try:
            return await self._http.post(
                self.url,
                json={"query": document, "variables": variables},
                headers={"X-Shopify-Access-Token": self._token, "Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise ChannelUnavailable(f"Shopify did not answer within {self._timeout} s") from None
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"could not reach Shopify: {error!r}") from None

    async def _read(
        self, response: httpx.Response, call: _Call, estimated_cost: float
    ) -> dict[str, Any]:
        status = response.status_code
        body = _json(response)
        if status in _MISCONFIGURED_STATUSES:
            detail = _messages(body.get("errors")) if body else ""
            raise ChannelMisconfigured(
                f"Shopify answered {status}: {_MISCONFIGURED_STATUSES[status]}"
                + (f" ({detail})" if detail else "")
            )
        if 300 <= status < 400:
            raise ChannelMisconfigured(
                f"Shopify redirected ({status}): use the shop's myshopify.com domain"
            )
        if status not in (200, 400, 413, 429):
            raise ChannelUnavailable(
                f"Shopify answered {status}", retry_after=_retry_after(response)
            )
        if body is None and status != 429:
            raise ChannelUnavailable(f"Shopify answered {status} with a body that is not JSON")
        body = body or {}
        errors = body.get("errors")
        throttled = status == 429 or _has_code(errors, "THROTTLED")
        await self._learn(body, call, estimated_cost, response if throttled else None)
        if status != 200:
            # 400/413: the request itself is malformed or too large; sending it again won't do.
            raise ChannelRejected(f"Shopify refused the request ({status}): {_messages(errors)}")
        if errors:
            if _has_code(errors, "ACCESS_DENIED"):
                # A scope the app was not granted: the merchant must approve it.
                raise ChannelMisconfigured(f"Shopify denied access: {_messages(errors)}")
            if _has_code(errors, "INTERNAL_SERVER_ERROR"):
                raise ChannelUnavailable(f"Shopify failed: {_messages(errors)}")
            raise ChannelRejected(f"Shopify refused {call.operation}: {_messages(errors)}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ChannelUnavailable(f"Shopify answered {call.operation} without data")
        return data

    async def _learn(
        self,
        body: dict[str, Any],
        call: _Call,
        estimated_cost: float,
        throttled: httpx.Response | None,
    ) -> None:
        """Correct the limiter with Shopify's figures; on THROTTLED, pause it and raise."""
        cost = _dig(body, "extensions", "cost")
        status = _dig(cost, "throttleStatus")
        available = _number(_dig(status, "currentlyAvailable"))
        capacity = _number(_dig(status, "maximumAvailable"))
        rate = _number(_dig(status, "restoreRate"))
        if capacity and rate and capacity > 0 and rate > 0:
            self.bucket = BucketSpec(capacity=capacity, rate=rate)
        call.cost = _number(_dig(cost, "actualQueryCost"))
        call.available = available
        if available is not None:
            # Calls granted but unanswered may not have reached Shopify when it counted: take
            # them off again (twice for some, until their own answers correct it) rather than
            # let the next call spend points they already hold.
            available -= self._in_flight - estimated_cost
        if throttled is None:
            if available is not None:
                await self._limiter.observe(self.limiter_key, self.bucket, available)
            return
        wait = _retry_after(throttled)
        if wait is None:
            # Shopify's rule: the call runs once the bucket holds its requested cost.
            requested = _number(_dig(cost, "requestedQueryCost")) or estimated_cost
            deficit = requested - (available if available is not None else 0.0)
            wait = max(deficit, 1.0) / self.bucket.rate
        # Pause first, then the figure: the bucket resumes with exactly what Shopify has.
        await self._limiter.pause(self.limiter_key, self.bucket, wait)
        if available is not None:
            await self._limiter.observe(self.limiter_key, self.bucket, available)
        raise ChannelThrottled(
            f"Shopify throttled {call.operation}: retry in {wait:.2f} s", retry_after=wait
        )


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _dig(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _has_code(errors: Any, code: str) -> bool:
    return isinstance(errors, list) and any(_dig(e, "extensions", "code") == code for e in errors)


def _messages(errors: Any) -> str:
    """Shopify's error messages, joined: `errors` is a list of objects, or one string."""
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        found = [str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors]
        return "; ".join(found) or "no message"
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {value}" for key, value in errors.items())
    return "no message"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
