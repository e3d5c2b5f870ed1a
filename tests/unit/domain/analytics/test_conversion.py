"""Conversion figures against hand-computed ones, and the span a report covers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.analytics.conversion import DayCount, conversions, days_of
from domain.errors import InvalidInput

EBAY, SHOP = uuid.UUID(int=1), uuid.UUID(int=2)
D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
COUNTS = [
    DayCount(EBAY, "A", D1, views=120), DayCount(EBAY, "A", D2, views=80),
    DayCount(EBAY, "A", D1, orders=3, units=4), DayCount(EBAY, "A", D2, orders=2, units=2),
    DayCount(EBAY, "B", D2, views=7),  # viewed, never bought
    DayCount(SHOP, "A", D1, orders=1, units=1),  # a channel that reports no views
]  # fmt: skip


def test_orders_over_views_per_channel_and_sku_in_percent() -> None:
    found = {(c.channel_id, c.sku): c for c in conversions(COUNTS, by_day=False)}

    a = found[(EBAY, "A")]
    assert (a.views, a.orders, a.units) == (200, 5, 6)
    assert a.conversion_percent == Decimal("2.50")  # 5 / 200
    assert found[(EBAY, "B")].conversion_percent == Decimal("0.00")
    assert found[(SHOP, "A")].conversion_percent is None  # no views: no rate
    assert list(found) == [(EBAY, "A"), (EBAY, "B"), (SHOP, "A")]


def test_by_day_each_day_has_its_own_rate_rounded_half_up() -> None:
    found = [c for c in conversions(COUNTS, by_day=True) if (c.channel_id, c.sku) == (EBAY, "A")]

    assert [(c.day, c.conversion_percent) for c in found] == [
        (D1, Decimal("2.50")),  # 3 / 120
        (D2, Decimal("2.50")),  # 2 / 80
    ]
    assert conversions([DayCount(EBAY, "C", D1, views=3, orders=2)], False)[
        0
    ].conversion_percent == Decimal("66.67")  # 66.666… half up


def test_a_span_covers_the_utc_days_it_touches_and_bad_spans_are_refused() -> None:
    def at(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    assert days_of(at(1), at(3)) == (D1, D2)  # `to` at midnight: that day is out
    assert days_of(at(1, 12), at(2, 1)) == (D1, D2)
    for start, end, field in (
        (at(2), at(1), "to"),
        (datetime(2026, 3, 1), at(2), "from"),
        (at(1), datetime(2027, 3, 3, tzinfo=UTC), "to"),  # more than 366 days
    ):
        with pytest.raises(InvalidInput) as refused:
            days_of(start, end)
        assert refused.value.field == field
