"""How long to wait before trying failed work again."""

from __future__ import annotations

import random


def backoff_seconds(
    attempt: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter for the given 1-based attempt that just failed."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    # Past 2**62 the exponent only overflows: the cap has long been reached.
    ceiling = min(cap, base * 2 ** min(attempt - 1, 62))
    return (rng or random).uniform(ceiling / 2, ceiling)
