"""eBay's Sell APIs over HTTP: the user token, the daily call quotas, typed failures, the log.

Each call takes the seller's user token from the hub's token store (refreshed once for every
process; a 401 expires it and the call is made once more with a new one), sends
`Content-Type` and `Content-Language` with every write (the Inventory API refuses a write
without the language), and is logged as `channel.call`.

eBay meters calls per application and API per day (Inventory 2,000,000, Fulfillment 100,000,
Notification 10,000 ~): a quota used up is a 429 (errorId 2001) for the rest of the day, which
would stop the channel dead. So the client spreads each quota over the day, through the
shared rate limiter: a bucket holding a thousandth of it, refilled with the rest evenly,
which can never spend more than the quota in any 24 hours. A 429 all the same pauses the
API's calls for a few seconds (eBay sends no Retry-After).
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
from adapters.channels.ebay import errors
from adapters.logging import get_logger
from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelThrottled,
    ChannelUnavailable,
)
from domain.sync.rate_limits import BucketSpec, RateLimiter

log = get_logger(__name__)

DAY: Final = 86_400.0
INVENTORY: Final = "/sell/inventory/v1"
FULFILLMENT: Final = "/sell/fulfillment/v1"
NOTIFICATION: Final = "/commerce/notification/v1"
ANALYTICS: Final = "/sell/analytics/v1"
# The Analytics API's quota is far smaller (the hub reads views hourly, a few calls a time): a
# thousandth of it would space its calls minutes apart, so its bucket holds a run's worth.
DAILY_QUOTAS: Final = {INVENTORY: 2_000_000, FULFILLMENT: 100_000, NOTIFICATION: 10_000,
                       ANALYTICS: 400}  # fmt: skip
BURSTS: Final = {ANALYTICS: 16.0}


def quota_bucket(per_day: int, burst: float | None = None) -> BucketSpec:
    """A day's quota as a bucket that never spends more than it in any 24 hours."""
    held = burst if burst is not None else max(per_day / 1000, 1.0)
    return BucketSpec(capacity=held, rate=(per_day - held) / DAY)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # the JSON answer; None for 204
    headers: Mapping[str, str]


class EbayClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        tokens: TokenStore,
        channel_id: uuid.UUID,
        refresh: Refresh,
        origin: str,
        app_key: str,
        language: str = "en-US",
        timeout: float = 10.0,
    ) -> None:
        self._http, self._limiter, self._tokens = http, limiter, tokens
        self._channel_id, self._refresh = channel_id, refresh
        self.origin = origin.rstrip("/")
        self._app_key = app_key
        self._language = language
        self._timeout = timeout

    async def call(
        self,
        method: str,
        api: str,
        path: str,
        *,
        operation: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        passes: tuple[int, ...] = (),
    ) -> Answer:
        """One call; a 2xx answer (and the statuses in `passes`, for the caller to read) is
        returned, anything else raises the port's typed failure."""
        key = f"ebay:{self._app_key}:{api}"
        spec = quota_bucket(DAILY_QUOTAS[api], BURSTS.get(api))
        queued = time.perf_counter()
        await self._limiter.acquire(key, spec)
        started = time.perf_counter()
        outcome, problem, status = "ok", None, 0
        try:
            answer = await self._send(method, api + path, body, params, operation)
            status = answer.status
            if 200 <= status < 300 or status in passes:
                return answer
            failure = errors.failure(status, answer.body, operation)
            if isinstance(failure, ChannelThrottled):
                await self._limiter.pause(key, spec, errors.THROTTLE_SECONDS)
            raise failure
        except ChannelFailure as failure:
            outcome, problem = calls.outcome(failure), failure.message
            raise
        finally:
            calls.record("ebay", outcome, time.perf_counter() - started)
            emit = log.info if outcome == "ok" else log.warning
            emit(
                "channel.call", channel="ebay", operation=operation, outcome=outcome,
                status=status, latency_ms=round((time.perf_counter() - started) * 1000, 1),
                waited_ms=round((started - queued) * 1000, 1), error=problem,
            )  # fmt: skip

    async def _send(
        self, method: str, path: str, body: Any, params: Mapping[str, str] | None, operation: str
    ) -> Answer:
        for attempt in range(2):
            token = await self._tokens.access_token(self._channel_id, self._refresh)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            content = None
            if body is not None:
                content = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
                headers["Content-Language"] = self._language
            try:
                response = await self._http.request(
                    method, self.origin + path, content=content, params=params,
                    headers=headers, timeout=self._timeout,
                )  # fmt: skip
            except httpx.TimeoutException:
                raise ChannelUnavailable(
                    f"eBay did not answer {operation} within {self._timeout} s"
                ) from None
            except httpx.HTTPError as error:
                raise ChannelUnavailable(f"could not reach eBay: {error!r}") from None
            if response.status_code == 401 and attempt == 0:
                await self._tokens.expire(self._channel_id, token)  # refused: the next is new
                continue
            return Answer(response.status_code, _json(response, operation), response.headers)
        raise ChannelMisconfigured(f"eBay refused a fresh token for {operation}")


def _json(response: httpx.Response, operation: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        if response.status_code < 500:  # eBay's APIs answer JSON, errors[] included
            raise ChannelUnavailable(f"eBay's answer to {operation} is not JSON") from None
        return None  # an edge's error page (502, 503): the status says enough
