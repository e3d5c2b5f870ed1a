"""MercadoLibre's REST API over HTTP: the access token, the per-account rate limit, 429
back-off, typed failures, the log.

Each call takes the seller's access token from the hub's token store (one refresh for every
process, the single-use refresh token rotated there; a 401 expires the token and the call is
made once more with a new one) and is logged as `channel.call`.

MercadoLibre meters calls per application and seller (~ 1,500 a minute) and answers 429
without Retry-After. So the calls of one account share one bucket in the rate limiter every
worker shares — at most a minute's quota in any minute: a burst of one second's share of it,
refilled with the rest evenly, so the calls go out at the quota's pace and never in a rush
MercadoLibre would refuse — and a 429 all the same pauses that bucket for every worker, for a
back-off that doubles with each 429 in a row, with jitter (see `errors.Backoff`). The user
products' stock resource has its own limit (~ 100 calls a minute) and its own bucket (half of
it at once, 50 calls at most: a push of a product's variants goes out together).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from adapters.channel_kit import calls
from adapters.channel_kit.tokens import Refresh, TokenStore
from adapters.channels.mercadolibre import errors
from adapters.logging import get_logger
from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelUnavailable,
)
from domain.sync.rate_limits import BucketSpec, RateLimiter

log = get_logger(__name__)

CALLS_PER_MINUTE: Final = 1500
UP_STOCK_PER_MINUTE: Final = 100
UP_STOCK_BURST: Final = 50  # calls at once at most: a product's variants go out together
BACKOFF: Final = errors.Backoff()


def up_stock_bucket(per_minute: int) -> BucketSpec:
    """The user products' stock resource: half its minute at once (a product's variants),
    at most `UP_STOCK_BURST` calls, the rest evenly."""
    return minute_bucket(per_minute, min(1 / 2, UP_STOCK_BURST / per_minute))


def minute_bucket(per_minute: int, burst_share: float = 1 / 60) -> BucketSpec:
    """A minute's quota as a bucket that never spends more than it in any 60 seconds: a
    burst of `burst_share` of it, the rest refilled evenly over the minute."""
    burst = max(per_minute * burst_share, 1.0)
    return BucketSpec(capacity=burst, rate=(per_minute - burst) / 60)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # the JSON answer; None when empty
    headers: Mapping[str, str]


class MeliClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        tokens: TokenStore,
        channel_id: uuid.UUID,
        refresh: Refresh,
        origin: str,
        account: str,
        calls_per_minute: int = CALLS_PER_MINUTE,
        up_stock_calls_per_minute: int = UP_STOCK_PER_MINUTE,
        backoff: errors.Backoff = BACKOFF,
        timeout: float = 10.0,
    ) -> None:
        self._http, self._limiter, self._tokens = http, limiter, tokens
        self._channel_id, self._refresh = channel_id, refresh
        self.origin = origin.rstrip("/")
        self._key = f"mercadolibre:{account}"
        self._spec = minute_bucket(calls_per_minute)
        self._up_spec = up_stock_bucket(up_stock_calls_per_minute)
        self._backoff = backoff
        self._timeout = timeout

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        passes: tuple[int, ...] = (),
        up_stock: bool = False,
    ) -> Answer:
        """One call; a 2xx answer (and the statuses in `passes`, for the caller to read) is
        returned, anything else raises the port's typed failure."""
        key, spec = self._key, self._spec
        if up_stock:  # the user products' stock resource: its own, lower, limit
            key, spec = f"{self._key}:up-stock", self._up_spec
        queued = time.perf_counter()
        await self._limiter.acquire(key, spec)
        started = time.perf_counter()
        outcome, problem, status = "ok", None, 0
        try:
            answer = await self._send(method, path, body, params, headers, operation)
            status = answer.status
            if status != 429:
                self._backoff.succeeded(key)
            if 200 <= status < 300 or status in passes:
                return answer
            pause = 0.0
            if status == 429:
                pause = self._backoff.next_pause(key)
                await self._limiter.pause(key, spec, pause)
            raise errors.failure(status, answer.body, operation, pause)
        except ChannelFailure as failure:
            outcome, problem = calls.outcome(failure), failure.message
            raise
        finally:
            calls.record("mercadolibre", outcome, time.perf_counter() - started)
            emit = log.info if outcome == "ok" else log.warning
            emit(
                "channel.call", channel="mercadolibre", operation=operation, outcome=outcome,
                status=status, latency_ms=round((time.perf_counter() - started) * 1000, 1),
                waited_ms=round((started - queued) * 1000, 1), error=problem,
            )  # fmt: skip

    async def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, str] | None,
        extra: Mapping[str, str] | None,
        operation: str,
    ) -> Answer:
        for attempt in range(2):
            token = await self._tokens.access_token(self._channel_id, self._refresh)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                       **(extra or {})}  # fmt: skip
            content = None
            if body is not None:
                content = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            try:
                response = await self._http.request(
                    method, self.origin + path, content=content, params=params,
                    headers=headers, timeout=self._timeout,
                )  # fmt: skip
            except httpx.TimeoutException:
                raise ChannelUnavailable(
                    f"MercadoLibre did not answer {operation} within {self._timeout} s"
                ) from None
            except httpx.HTTPError as error:
                raise ChannelUnavailable(f"could not reach MercadoLibre: {error!r}") from None
            if response.status_code == 401 and attempt == 0:
                await self._tokens.expire(self._channel_id, token)  # refused: the next is new
                continue
            return Answer(response.status_code, _json(response, operation), response.headers)
        raise ChannelMisconfigured(f"MercadoLibre refused a fresh token for {operation}")


def _json(response: httpx.Response, operation: str) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        if response.status_code < 500:  # MercadoLibre answers JSON, refusals included
            raise ChannelUnavailable(f"MercadoLibre's answer to {operation} is not JSON") from None
        return None  # an edge's error page (502, 503): the status says enough
