"""The Selling Partner API over HTTP: the LWA access token, per-operation rate limits, errors.

Contract (channel-contracts §2): every call carries `x-amz-access-token`, an LWA access token
(1 h) got with the refresh-token grant and kept in the shared token store, so that one caller
across every process refreshes it. Amazon meters each operation by its own token bucket per
selling partner and application (rate and burst in each model's usage plan; here
`OPERATIONS`): each call takes a token from the shared limiter's bucket
`amazon:{sellerId}:{operation}` first. A 429 `QuotaExceeded` pauses that bucket for the time
one token takes and raises ChannelThrottled; `x-amzn-RateLimit-Limit` on an answer teaches the
client the rate Amazon really grants this seller. Errors have one shape
(`{"errors": [{code, message, details}]}`): 403 with a token just used → the token is expired
in the store and the call made once more with a fresh one; 403 again, or 401 → ChannelMisconfigured;
400/404/413/415 → ChannelRejected; 5xx, timeouts, unreadable answers → ChannelUnavailable.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from adapters.channel_kit import calls
from adapters.channel_kit.tokens import Grant, TokenStore
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

LWA_URL: Final = "https://api.amazon.com/auth/o2/token"
API_URL: Final = "https://sellingpartnerapi-na.amazon.com"

# Each operation's documented usage plan (requests a second, burst), from the official models.
PLANS: Final = {
    "getListingsItem": (5, 10),
    "putListingsItem": (5, 10),
    "patchListingsItem": (5, 5),
    "deleteListingsItem": (5, 5),
    "searchListingsItems": (5, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2, 15),
    "getFeedDocument": (0.0222, 10),
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2, 10),
    "getInventorySummaries": (2, 2),
    "createReport": (0.0167, 15),
    "getReport": (2, 15),
    "getReportDocument": (0.0167, 15),
}
# The client's buckets keep one token of each burst back: a call reaches Amazon a little
# after it leaves, later than the one before it at times, and Amazon counts arrivals.
OPERATIONS: Final = {
    name: BucketSpec(capacity=max(burst - 1, 1), rate=rate) for name, (rate, burst) in PLANS.items()
}
_OUTCOMES: Final[dict[type[ChannelFailure], str]] = {
    ChannelThrottled: "throttled",
    ChannelUnavailable: "unavailable",
    ChannelRejected: "rejected",
    ChannelMisconfigured: "misconfigured",
}


@dataclass(frozen=True, slots=True)
class Credentials:
    seller_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    api_url: str = API_URL
    token_url: str = LWA_URL


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or None (204, or not JSON)


class AmazonClient:
    """One seller's Selling Partner API, behind the shared token store and rate limiter."""

    def __init__(
        self,
        channel_id: uuid.UUID,
        credentials: Credentials,
        *,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        tokens: TokenStore,
        timeout: float = 10,
        clock: Any = None,
    ):
        self.channel_id = channel_id
        self.credentials = credentials
        self._http = http
        self._limiter = limiter
        self._tokens = tokens
        self._timeout = timeout
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rates: dict[str, BucketSpec] = dict(OPERATIONS)

    @property
    def seller_id(self) -> str:
        return self.credentials.seller_id

    def now(self) -> datetime:
        found: datetime = self._clock()
        return found

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        ok: tuple[int, ...] = (200,),
    ) -> Answer:
        """One SP-API call; returns its answer when its status is in `ok`, else raises."""
        spec = self._rates[operation]
        key = f"amazon:{self.seller_id}:{operation}"
        started = time.perf_counter()
        outcome, error = "ok", None
        try:
            await self._limiter.acquire(key, spec)
            token = await self._tokens.access_token(self.channel_id, self._refresh)
            response = await self._send(method, path, params, body, token)
            if response.status_code == 403:
                # A token refused: expired early, or replaced. Once more with a fresh one.
                await self._tokens.expire(self.channel_id, token)
                token = await self._tokens.access_token(self.channel_id, self._refresh)
                response = await self._send(method, path, params, body, token)
            return await self._read(operation, key, response, ok)
        except ChannelFailure as failure:
            outcome, error = _OUTCOMES.get(type(failure), "failed"), failure.message
            raise
        finally:
            calls.record("amazon", outcome, time.perf_counter() - started)
            emit = log.info if outcome == "ok" else log.warning
            emit(
                "channel.call", channel="amazon", seller=self.seller_id, operation=operation,
                outcome=outcome, latency_ms=round((time.perf_counter() - started) * 1000, 1),
                error=error,
            )  # fmt: skip

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        token: str,
    ) -> httpx.Response:
        headers = {"x-amz-access-token": token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            return await self._http.request(
                method,
                self.credentials.api_url.rstrip("/") + path,
                params=params,
                content=json.dumps(body).encode() if body is not None else None,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise ChannelUnavailable(f"Amazon did not answer within {self._timeout} s") from None
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"could not reach Amazon: {error!r}") from None

    async def _read(
        self, operation: str, key: str, response: httpx.Response, ok: tuple[int, ...]
    ) -> Answer:
        status = response.status_code
        body = _json(response)
        self._learn(operation, response)
        if status in ok:
            if body is None and status != 204:
                raise ChannelUnavailable(f"Amazon answered {operation} with a body not JSON")
            return Answer(status, body)
        message = _messages(body) or f"HTTP {status}"
        if status == 429:
            spec = self._rates[operation]
            wait = 1.0 / spec.rate
            await self._limiter.pause(key, spec, wait)
            raise ChannelThrottled(
                f"Amazon throttled {operation} (QuotaExceeded): retry in {wait:.1f} s",
                retry_after=wait,
            )
        if status in (401, 403):
            raise ChannelMisconfigured(f"Amazon refused {operation} ({status}): {message}")
        if status in (400, 404, 409, 413, 415, 422):
            raise ChannelRejected(f"Amazon refused {operation} ({status}): {message}")
        raise ChannelUnavailable(f"Amazon answered {operation} with {status}: {message}"[:500])

    def _learn(self, operation: str, response: httpx.Response) -> None:
        """`x-amzn-RateLimit-Limit`: the rate Amazon grants this seller for the operation."""
        try:
            rate = float(response.headers.get("x-amzn-RateLimit-Limit", ""))
        except ValueError:
            return
        spec = self._rates[operation]
        if rate > 0 and rate != spec.rate:
            self._rates[operation] = BucketSpec(capacity=spec.capacity, rate=rate)

    async def _refresh(self, refresh_token: str | None) -> Grant:
        """The LWA refresh-token grant (Amazon's refresh tokens do not rotate)."""
        given = refresh_token or self.credentials.refresh_token
        form = {
            "grant_type": "refresh_token",
            "refresh_token": given,
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
        }
        asked = self.now()
        try:
            response = await self._http.post(
                self.credentials.token_url, data=form, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"could not reach Login with Amazon: {error!r}") from None
        body = _json(response) or {}
        if response.status_code in (400, 401):
            raise ChannelMisconfigured(
                f"Login with Amazon refused the credentials: {body.get('error', '?')} "
                f"({body.get('error_description', 'no description')})"
            )
        if response.status_code == 429:
            raise ChannelThrottled("Login with Amazon throttled the token request", retry_after=1)
        token, lasts = body.get("access_token"), body.get("expires_in")
        if response.status_code != 200 or not isinstance(token, str) or not isinstance(lasts, int):
            raise ChannelUnavailable(f"Login with Amazon answered {response.status_code}")
        return Grant(token, asked + timedelta(seconds=lasts), body.get("refresh_token") or given)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _messages(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
