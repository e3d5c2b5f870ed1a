"""A purse of a shared bucket's tokens: fewer trips to the limiter at the same pace."""

from __future__ import annotations

import pytest

from adapters.ratelimit import purse
from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.ratelimit.purse import Purse
from domain.sync.rate_limits import BucketSpec
from tests.unit.test_rate_limits import FakeClock

FAST = BucketSpec(capacity=200, rate=196)  # MercadoLibre's 12,000 calls a minute
SLOW = BucketSpec(capacity=50, rate=50 / 60)  # the user products' stock resource
KEY = "mercadolibre:4242:123"


class Counting(MemoryRateLimiter):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock, sleep=clock.sleep)
        self.asked: list[float] = []

    async def acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> None:
        self.asked.append(tokens)
        await super().acquire(key, spec, tokens)


class Monotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    monkeypatch.setattr(purse, "time", clock)
    return clock


async def test_a_fast_bucket_is_taken_four_tokens_a_trip_at_the_same_pace(
    monotonic: Monotonic,
) -> None:
    clock = FakeClock()
    limiter = Counting(clock)
    await limiter.observe(KEY, FAST, 0.0)  # empty: every token waits its turn
    taker = Purse(limiter)
    for _ in range(8):
        await taker.take(KEY, FAST)
    assert limiter.asked == [4.0, 4.0]  # two trips for eight calls
    assert sum(clock.slept) == pytest.approx(8 / FAST.rate)  # the bucket's own pace


async def test_a_slow_bucket_is_taken_a_token_a_trip(monotonic: Monotonic) -> None:
    limiter = Counting(FakeClock())
    taker = Purse(limiter)
    for _ in range(3):
        await taker.take(KEY, SLOW)
    assert limiter.asked == [1.0, 1.0, 1.0]


async def test_tokens_not_spent_soon_lapse_and_a_429_drops_them(monotonic: Monotonic) -> None:
    limiter = Counting(FakeClock())
    taker = Purse(limiter)
    await taker.take(KEY, FAST)
    monotonic.now += purse.KEEP_SECONDS  # three held, now lapsed
    await taker.take(KEY, FAST)
    assert limiter.asked == [4.0, 4.0]
    taker.empty(KEY)  # MercadoLibre said 429: what is held is not spent
    await taker.take(KEY, FAST)
    assert limiter.asked == [4.0, 4.0, 4.0]
