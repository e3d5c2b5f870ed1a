"""Drift sightings without I/O: a lowered figure waits from when it was first seen, until a
pull that started after it (at most ten minutes), and sales explain a drop, never a rise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.channels.listing import DriftSighting, ListingItem
from domain.sync.drifts import (
    PULL_WAIT_LIMIT,
    RECHECK,
    RECHECK_MAX,
    decidable,
    read_again_at,
    sales_since,
    sighted,
    unexplained,
)

T0 = datetime(2026, 1, 5, 10, 0, 0, 500_000, tzinfo=UTC)
CONFIRMED = T0 - timedelta(seconds=20)
SEEN = DriftSighting(quantity=9, drifted_from=10, drifted_at=CONFIRMED, seen_at=T0)


def item(confirmed: int | None = 10, sighting: DriftSighting | None = SEEN) -> ListingItem:
    return ListingItem(
        "SKU", None, None, 10, confirmed_quantity=confirmed, confirmed_at=CONFIRMED,
        sighting=sighting,
    )  # fmt: skip


def test_the_same_figure_from_the_same_confirmed_one_keeps_its_first_sighting() -> None:
    later = T0 + timedelta(seconds=30)
    assert sighted(item(), 9, later) == SEEN
    assert sighted(item(), 8, later) == DriftSighting(8, 10, CONFIRMED, later)  # another figure
    moved = DriftSighting(9, 11, CONFIRMED, later)
    assert sighted(item(confirmed=11), 9, later) == moved  # the confirmed figure moved since
    assert sighted(item(sighting=None), 9, later) == DriftSighting(9, 10, CONFIRMED, later)


def test_it_is_decided_after_a_pull_that_started_after_it_or_after_ten_minutes() -> None:
    soon = T0 + timedelta(seconds=5)
    assert decidable(SEEN, None, soon) == "waiting"  # never pulled
    assert decidable(SEEN, T0 - timedelta(microseconds=1), soon) == "waiting"  # started before
    assert decidable(SEEN, T0, soon) == "pulled"
    assert decidable(SEEN, None, T0 + PULL_WAIT_LIMIT - timedelta(seconds=1)) == "waiting"
    assert decidable(SEEN, T0 - timedelta(hours=1), T0 + PULL_WAIT_LIMIT) == "unpulled"


@given(st.floats(min_value=0, max_value=PULL_WAIT_LIMIT.total_seconds()))
def test_a_waiting_figure_is_read_again_soon_never_rarely_and_by_the_end_of_its_wait(
    waited: float,
) -> None:
    now = T0 + timedelta(seconds=waited)
    again = read_again_at(SEEN, now)
    assert again <= T0 + PULL_WAIT_LIMIT
    assert again - now <= RECHECK_MAX
    assert again - now >= min(RECHECK, T0 + PULL_WAIT_LIMIT - now)


def test_sales_count_from_a_whole_second_well_before_the_figure_was_confirmed() -> None:
    since = sales_since(T0)
    assert since.microsecond == 0
    assert since <= T0 - timedelta(seconds=30)


@given(st.integers(-1000, 1000), st.integers(0, 1000))
def test_sales_explain_a_drop_never_past_zero_and_never_a_rise(delta: int, sold: int) -> None:
    left = unexplained(delta, sold)
    if delta >= 0:
        assert left == delta
    else:
        assert delta <= left <= 0
        assert left == min(delta + sold, 0)
