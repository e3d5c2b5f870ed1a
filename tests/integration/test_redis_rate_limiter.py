"""The Redis token bucket, shared by two limiters on two connections (two "processes")."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from adapters.ratelimit.redis import RedisRateLimiter
from domain.sync.rate_limits import BucketSpec

pytestmark = pytest.mark.redis

SMALL = BucketSpec(capacity=5, rate=50)


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    first = aioredis.Redis.from_url(redis_url)
    second = aioredis.Redis.from_url(redis_url)
    try:
        yield first, second
    finally:
        for client in (first, second):
            # aclose() can hang on a dead connection (redis-py #3941).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), 2)


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
def limiters(clients: tuple[aioredis.Redis, aioredis.Redis]) -> list[RedisRateLimiter]:
    return [RedisRateLimiter(client) for client in clients]


async def test_two_processes_together_never_take_more_than_the_bucket_gives(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    grants = 0
    start = time.monotonic()
    window = 0.3

    async def take(limiter: RedisRateLimiter) -> None:
        nonlocal grants
        while time.monotonic() - start < window:
            await limiter.acquire(key, SMALL)
            grants += 1

    await asyncio.gather(*(take(limiter) for limiter in limiters for _ in range(4)))
    elapsed = time.monotonic() - start
    ceiling = SMALL.capacity + SMALL.rate * elapsed
    assert grants <= ceiling
    # And the bucket is used, not starved: most of what it could give was given.
    assert grants >= 0.6 * (SMALL.capacity + SMALL.rate * window)


async def test_what_one_process_takes_the_other_cannot(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    first, second = limiters
    slow = BucketSpec(capacity=5, rate=10)
    await first.acquire(key, slow, tokens=5)
    start = time.monotonic()
    await second.acquire(key, slow, tokens=2)
    assert time.monotonic() - start == pytest.approx(0.2, abs=0.1)


async def test_a_pause_in_one_process_holds_the_other(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    first, second = limiters
    await first.pause(key, SMALL, seconds=0.25)
    start = time.monotonic()
    await second.acquire(key, SMALL)
    assert time.monotonic() - start >= 0.24


async def test_an_observed_figure_is_what_every_process_sees(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    first, second = limiters
    slow = BucketSpec(capacity=100, rate=10)
    await first.observe(key, slow, available=0)
    start = time.monotonic()
    await second.acquire(key, slow, tokens=3)
    assert time.monotonic() - start == pytest.approx(0.3, abs=0.1)


async def test_an_idle_bucket_expires_once_it_would_be_full(
    limiters: list[RedisRateLimiter], clients: tuple[aioredis.Redis, aioredis.Redis], key: str
) -> None:
    await limiters[0].acquire(key, SMALL, tokens=5)
    ttl_ms = await clients[0].pttl("nexo:ratelimit:" + key)
    # Refilling 5 tokens at 50/s takes 0.1 s; the key lives that long plus a second.
    assert 0 < ttl_ms <= 1100


async def test_try_acquire_takes_what_the_shared_bucket_has_and_nothing_when_it_is_spent(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    """eBay's revision budget: one process spends it, the other is told how long until the
    next token and waits for nothing; a refused try takes nothing (the next token is the
    first caller's, not pushed further back by every refusal)."""
    first, second = limiters
    budget = BucketSpec(capacity=2, rate=5)  # a token every 0.2 s

    assert [await first.try_acquire(key, budget) for _ in range(2)] == [0.0, 0.0]
    refused = [await second.try_acquire(key, budget) for _ in range(3)]

    assert all(0 < wait <= 0.2 for wait in refused), refused
    assert refused == sorted(refused, reverse=True)  # the same token, coming nearer
    start = time.monotonic()
    await first.acquire(key, budget)
    # Refusals that took tokens would have left the bucket 3 short: 0.8 s.
    assert time.monotonic() - start == pytest.approx(refused[-1], abs=0.1)


async def test_try_acquire_can_leave_the_last_tokens_for_other_processes(
    limiters: list[RedisRateLimiter], key: str
) -> None:
    """eBay's revisions kept for lowering quantities: a process keeping 2 of 5 takes 3 and
    takes nothing after; another keeping none takes the 2 left."""
    first, second = limiters
    budget = BucketSpec(capacity=5, rate=0.001)  # no refill to speak of in the test

    taken = [await first.try_acquire(key, budget, keep=2) for _ in range(4)]
    assert taken[:3] == [0.0] * 3
    assert taken[3] == pytest.approx(1 / 0.001, rel=0.01)  # one more token, then 3 left
    assert [await second.try_acquire(key, budget) for _ in range(2)] == [0.0, 0.0]
    assert await second.try_acquire(key, budget) > 0  # all 5 are spent
