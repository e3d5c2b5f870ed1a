"""The in-process token bucket, driven by a hand-moved clock: no real waiting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.ratelimit.memory import MemoryRateLimiter
from domain.sync.rate_limits import BucketSpec

SPEC = BucketSpec(capacity=10, rate=2)  # 10 tokens, 2 per second
KEY = "shopify:nexo-demo.myshopify.com"


class FakeClock:
    """A clock that only moves when the limiter sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> MemoryRateLimiter:
    return MemoryRateLimiter(clock=clock, sleep=clock.sleep)


async def test_a_new_bucket_grants_its_whole_capacity_at_once(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    for _ in range(10):
        await limiter.acquire(KEY, SPEC)
    assert clock.slept == []
    assert limiter.available(KEY, SPEC) == pytest.approx(0)


async def test_an_empty_bucket_waits_for_the_deficit_at_the_refill_rate(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire(KEY, SPEC, tokens=10)
    await limiter.acquire(KEY, SPEC, tokens=3)
    assert sum(clock.slept) == pytest.approx(1.5)


async def test_refill_stops_at_capacity(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    await limiter.acquire(KEY, SPEC, tokens=10)
    clock.now += 3600
    assert limiter.available(KEY, SPEC) == pytest.approx(10)


async def test_buckets_of_different_keys_are_independent(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire(KEY, SPEC, tokens=10)
    await limiter.acquire("shopify:other-shop.myshopify.com", SPEC, tokens=10)
    assert clock.slept == []


async def test_the_channels_figure_replaces_the_estimate(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.observe(KEY, SPEC, available=1)
    await limiter.acquire(KEY, SPEC, tokens=5)
    assert sum(clock.slept) == pytest.approx(2.0)


async def test_an_observed_figure_above_capacity_is_capped(limiter: MemoryRateLimiter) -> None:
    await limiter.observe(KEY, SPEC, available=500)
    assert limiter.available(KEY, SPEC) == pytest.approx(10)


async def test_a_pause_grants_nothing_until_it_ends(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.pause(KEY, SPEC, seconds=4)
    await limiter.acquire(KEY, SPEC, tokens=1)
    # The bucket refilled 8 tokens during the pause: one call right after it goes through.
    assert sum(clock.slept) == pytest.approx(4.0)


async def test_a_pause_empties_the_bucket(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    await limiter.pause(KEY, SPEC, seconds=1)
    await limiter.acquire(KEY, SPEC, tokens=6)
    # 2 tokens restored by the end of the pause; 4 more take 2 seconds.
    assert sum(clock.slept) == pytest.approx(3.0)


async def test_pause_then_observe_resumes_with_the_channels_figure_plus_the_refill(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    # Shopify's throttled answer: 2 left, the call costs 6, so retry in (6 - 2) / 2 = 2 s.
    await limiter.pause(KEY, SPEC, seconds=2)
    await limiter.observe(KEY, SPEC, available=2)
    await limiter.acquire(KEY, SPEC, tokens=6)
    assert sum(clock.slept) == pytest.approx(2.0)


async def test_a_call_costing_more_than_the_bucket_waits_for_a_full_one_and_leaves_a_debt(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire(KEY, SPEC, tokens=4)
    await limiter.acquire(KEY, SPEC, tokens=14)
    assert sum(clock.slept) == pytest.approx(2.0)
    assert limiter.available(KEY, SPEC) == pytest.approx(-4)
    await limiter.acquire(KEY, SPEC, tokens=1)
    assert sum(clock.slept) == pytest.approx(4.5)


@given(
    steps=st.lists(
        st.tuples(st.floats(0.1, 12), st.floats(0, 3)),  # (tokens asked, idle seconds after)
        min_size=1,
        max_size=40,
    )
)
async def test_grants_never_exceed_capacity_plus_the_refill_over_the_elapsed_time(
    steps: list[tuple[float, float]],
) -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, sleep=clock.sleep)
    start = clock.now
    granted = 0.0
    for tokens, idle in steps:
        await limiter.acquire(KEY, SPEC, tokens=tokens)
        granted += tokens
        # A call above capacity may overdraw by its excess, repaid before the next grant.
        excess = max(0.0, tokens - SPEC.capacity)
        assert granted <= SPEC.capacity + SPEC.rate * (clock.now - start) + excess + 1e-6
        clock.now += idle


async def test_try_acquire_takes_what_is_there_or_says_how_long_without_taking(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    spec = BucketSpec(capacity=2, rate=0.5)
    assert await limiter.try_acquire("k", spec) == 0.0
    assert await limiter.try_acquire("k", spec) == 0.0
    assert await limiter.try_acquire("k", spec) == pytest.approx(2.0)
    assert await limiter.try_acquire("k", spec) == pytest.approx(2.0)  # took nothing
    clock.now += 2.0
    assert await limiter.try_acquire("k", spec) == 0.0
    assert clock.slept == []


async def test_try_acquire_can_leave_the_last_tokens_for_others(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    """A caller keeping 2 of 5 takes 3 and is then told to wait for the one it lacks; a
    caller that keeps none still takes the 2 left."""
    spec = BucketSpec(capacity=5, rate=0.5)
    assert [await limiter.try_acquire("k", spec, keep=2) for _ in range(3)] == [0.0] * 3
    assert await limiter.try_acquire("k", spec, keep=2) == pytest.approx(2.0)  # 1 more, at 0.5/s
    assert limiter.available("k", spec) == pytest.approx(2.0)  # the refusal took nothing
    assert [await limiter.try_acquire("k", spec) for _ in range(2)] == [0.0, 0.0]
    assert await limiter.try_acquire("k", spec) == pytest.approx(2.0)
    assert await limiter.try_acquire("k", spec, keep=2) == pytest.approx(6.0)
