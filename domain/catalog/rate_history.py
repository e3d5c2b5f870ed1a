"""Exchange rates as they stood each day: money of a past sale converts at its day's rate.

Every stored rate is kept for the day it was set (the last one set that day wins). The rate
of a day is the last one set on or before it; a day before any rate of the pair was stored
takes the first one stored (the best that is known). The reverse pair, inverted, serves when
only it is stored. A conversion is exact arithmetic on fractions, rounded half up to the
minor unit once: the same in Python and in SQL (the sales report converts there).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.errors import InvalidInput
from domain.money import exponent

DayRate = tuple[date, Decimal]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of days with one factor: minor units of the source to minor units of the
    target. `first` None: from the beginning; `until` None: on (exclusive)."""

    first: date | None
    until: date | None
    factor: Fraction


@dataclass(frozen=True, slots=True)
class RateHistory:
    days: Mapping[tuple[str, str], tuple[DayRate, ...]]  # per pair, oldest day first

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, date, Decimal]]) -> RateHistory:
        pairs: dict[tuple[str, str], list[DayRate]] = {}
        for source, target, day, rate in rows:
            pairs.setdefault((source, target), []).append((day, rate))
        return cls({pair: tuple(sorted(days)) for pair, days in pairs.items()})

    def rate(self, source: str, target: str, day: date) -> Fraction | None:
        """How many `target` one `source` was worth on `day`; None when never stored."""
        if source == target:
            return Fraction(1)
        direct = self.days.get((source, target))
        if direct:
            return Fraction(_on(direct, day))
        reverse = self.days.get((target, source))
        if reverse:
            return 1 / Fraction(_on(reverse, day))
        return None

    def factor(self, source: str, target: str, day: date) -> Fraction:
        """What one minor unit of `source` is worth in minor units of `target` on `day`; a
        pair never stored is refused, naming it."""
        rate = self.rate(source, target, day)
        if rate is None:
            raise InvalidInput(f"no exchange rate from {source} to {target}", field="currency")
        return rate * Fraction(10) ** (exponent(target) - exponent(source))

    def convert(self, minor: int, source: str, target: str, day: date) -> int:
        """`minor` units of `source` in `target` at `day`'s rate, half up."""
        if source == target:
            return minor
        return in_minor(minor, self.factor(source, target, day))

    def segments(self, target: str) -> dict[str, list[Segment]]:
        """Every currency convertible to `target`, as stretches of days of one factor (the
        target itself: one stretch, factor 1)."""
        found: dict[str, list[Segment]] = {target: [Segment(None, None, Fraction(1))]}
        sources = {s for s, t in self.days if t == target} | {
            t for s, t in self.days if s == target
        }
        for source in sorted(sources - {target}):
            stored = self.days.get((source, target)) or self.days[(target, source)]
            days = [day for day, _ in stored]
            found[source] = [
                Segment(
                    days[n] if n else None,
                    days[n + 1] if n + 1 < len(days) else None,
                    self.factor(source, target, days[n]),
                )
                for n in range(len(days))
            ]
        return found


def in_minor(minor: int, factor: Fraction) -> int:
    """`minor` units times `factor`, to the nearest minor unit, halves away from zero."""
    p, q = factor.numerator, factor.denominator
    whole = (2 * abs(minor) * p + q) // (2 * q)
    return whole if minor >= 0 else -whole


def _on(days: tuple[DayRate, ...], day: date) -> Decimal:
    at = bisect.bisect_right(days, (day, Decimal("Infinity")))
    return days[max(at - 1, 0)][1]
