"""The Shopify client against canned answers: what each kind of answer becomes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.channels.shopify.client import ShopifyClient
from adapters.channels.shopify.documents import LISTING_END
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels.port import (
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
)

SHOP = "nexo-demo.myshopify.com"
KEY = f"shopify:{SHOP}"
VARIABLES = {"product": {"id": "gid://shopify/Product/1", "status": "ARCHIVED"}}
DATA = {"productUpdate": {"product": {"id": "gid://shopify/Product/1"}, "userErrors": []}}

Handler = Callable[[httpx.Request], httpx.Response]


def cost(available: float, *, requested: float = 11, actual: float | None = 11) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": available,
                "restoreRate": 50.0,
            },
        }
    }


def answer(status: int = 200, body: Any = None, **headers: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)

    return handle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> MemoryRateLimiter:
    return MemoryRateLimiter(clock=clock, sleep=clock.sleep)


def client_for(handler: Handler, limiter: MemoryRateLimiter) -> ShopifyClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ShopifyClient(SHOP, "shpat_test", http=http, limiter=limiter)


async def run(handler: Handler, limiter: MemoryRateLimiter) -> dict[str, Any]:
    return await client_for(handler, limiter).execute(LISTING_END, VARIABLES, estimated_cost=11)


async def test_a_call_posts_the_document_with_the_access_token_and_returns_its_data(
    limiter: MemoryRateLimiter,
) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": DATA, "extensions": cost(989)})

    assert await run(handle, limiter) == DATA
    request = seen[0]
    assert str(request.url) == f"https://{SHOP}/admin/api/2026-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_test"
    assert json.loads(request.content) == {"query": LISTING_END, "variables": VARIABLES}


async def test_each_answer_corrects_the_bucket_and_teaches_its_size(
    limiter: MemoryRateLimiter,
) -> None:
    client = client_for(answer(body={"data": DATA, "extensions": cost(400)}), limiter)
    await client.execute(LISTING_END, VARIABLES, estimated_cost=11)
    assert (client.bucket.capacity, client.bucket.rate) == (1000.0, 50.0)
    assert limiter.available(KEY, client.bucket) == pytest.approx(400)


async def test_a_throttled_answer_pauses_the_bucket_until_the_cost_is_restored(
    limiter: MemoryRateLimiter, clock: Clock
) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(40, requested=140, actual=None),
    }
    client = client_for(answer(body=throttled), limiter)
    with pytest.raises(ChannelThrottled) as raised:
        await client.execute(LISTING_END, VARIABLES, estimated_cost=140)
    # 100 points short at 50 per second.
    assert raised.value.retry_after == pytest.approx(2.0)
    await limiter.acquire(KEY, client.bucket, tokens=140)
    assert clock.now == pytest.approx(2.0)


async def test_a_429_is_throttled_too_and_its_retry_after_wins(
    limiter: MemoryRateLimiter,
) -> None:
    body = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    with pytest.raises(ChannelThrottled) as raised:
        await run(answer(429, body, **{"Retry-After": "3.5"}), limiter)
    assert raised.value.retry_after == pytest.approx(3.5)


async def test_a_429_without_a_json_body_is_still_throttled(limiter: MemoryRateLimiter) -> None:
    with pytest.raises(ChannelThrottled) as raised:
        await run(answer(429, b"Too Many Requests"), limiter)
    assert raised.value.retry_after is not None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_is_unavailable(status: int, limiter: MemoryRateLimiter) -> None:
    with pytest.raises(ChannelUnavailable, match=str(status)):
        await run(answer(status, {"errors": "Internal error"}), limiter)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof")],
)
async def test_timeouts_and_connection_errors_are_unavailable(
    failure: Exception, limiter: MemoryRateLimiter
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(ChannelUnavailable):
        await run(handle, limiter)


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad gateway</html>", b"[]", json.dumps({"extensions": cost(900)}).encode()],
)
async def test_an_answer_that_is_not_graphql_is_unavailable(
    body: bytes, limiter: MemoryRateLimiter
) -> None:
    with pytest.raises(ChannelUnavailable):
        await run(answer(200, body), limiter)


@pytest.mark.parametrize("status", [401, 403])
async def test_bad_credentials_are_a_misconfiguration(
    status: int, limiter: MemoryRateLimiter
) -> None:
    body = {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    with pytest.raises(ChannelMisconfigured, match="Invalid API key"):
        await run(answer(status, body), limiter)


async def test_a_missing_access_scope_is_a_misconfiguration(limiter: MemoryRateLimiter) -> None:
    body = {
        "errors": [
            {
                "message": "Access denied for orders field. Required access: `read_orders`.",
                "extensions": {"code": "ACCESS_DENIED"},
            }
        ]
    }
    with pytest.raises(ChannelMisconfigured, match="read_orders"):
        await run(answer(200, body), limiter)


async def test_other_graphql_errors_are_rejections_with_shopifys_messages(
    limiter: MemoryRateLimiter,
) -> None:
    body = {
        "errors": [
            {"message": "Field 'nope' doesn't exist on type 'Product'"},
            {"message": "Variable $product of type ProductUpdateInput! was provided invalid value"},
        ],
        "extensions": cost(990),
    }
    with pytest.raises(ChannelRejected) as raised:
        await run(answer(200, body), limiter)
    assert "Field 'nope' doesn't exist" in raised.value.message
    assert "provided invalid value" in raised.value.message
    assert not raised.value.retryable


async def test_each_call_logs_one_line_with_its_outcome_latency_and_cost(
    limiter: MemoryRateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.channels.shopify.client")
    await run(answer(body={"data": DATA, "extensions": cost(989)}), limiter)
    with pytest.raises(ChannelUnavailable):
        await run(answer(503, {}), limiter)
    ours = [r for r in caplog.records if r.name == "adapters.channels.shopify.client"]
    ok, failed = (vars(record) for record in ours)
    assert ok["msg"] == "channel.call"
    assert (ok["channel"], ok["operation"], ok["outcome"], ok["cost"]) == (
        "shopify",
        "ListingEnd",
        "ok",
        11,
    )
    assert ok["latency_ms"] >= 0
    assert (failed["outcome"], failed["operation"]) == ("unavailable", "ListingEnd")
