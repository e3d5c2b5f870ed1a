"""Backoff: exponential ceilings, full jitter in the upper half, capped."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.retry import backoff_seconds

attempts = st.integers(min_value=1, max_value=1000)
bases = st.floats(min_value=0.001, max_value=60.0)
caps = st.floats(min_value=0.001, max_value=3600.0)
seeds = st.integers(min_value=0, max_value=2**32)


@given(attempt=attempts, base=bases, cap=caps, seed=seeds)
def test_backoff_lies_in_the_upper_half_of_the_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    wait = backoff_seconds(attempt, base=base, cap=cap, rng=random.Random(seed))
    assert ceiling / 2 <= wait <= ceiling


@given(attempt=st.integers(min_value=1, max_value=30), base=bases, seed=seeds)
def test_backoff_never_shrinks_from_one_attempt_to_the_next(
    attempt: int, base: float, seed: int
) -> None:
    rng = random.Random(seed)
    cap = 1e12  # out of the way: the ceiling doubles each attempt
    current = backoff_seconds(attempt, base=base, cap=cap, rng=rng)
    following = backoff_seconds(attempt + 1, base=base, cap=cap, rng=rng)
    assert following >= current


@given(attempt=st.integers(min_value=1, max_value=1000), cap=caps, seed=seeds)
def test_backoff_never_exceeds_the_cap(attempt: int, cap: float, seed: int) -> None:
    assert backoff_seconds(attempt, base=1.0, cap=cap, rng=random.Random(seed)) <= cap


def test_the_same_seed_gives_the_same_backoff() -> None:
    first = backoff_seconds(3, base=1.0, rng=random.Random(42))
    assert first == backoff_seconds(3, base=1.0, rng=random.Random(42))
    assert 2.0 <= first <= 4.0


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_are_one_based(attempt: int) -> None:
    with pytest.raises(ValueError, match="1-based"):
        backoff_seconds(attempt)
