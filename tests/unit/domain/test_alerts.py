"""Stock states and the alerts their crossings raise: once per crossing, never on every change."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.inventory.alerts import AlertKind, crossing, stock_state
from domain.inventory.model import StockState

IN, LOW, OUT = StockState.IN_STOCK, StockState.LOW, StockState.OUT


@pytest.mark.parametrize(
    ("available", "threshold", "state"),
    [
        (-1, 3, OUT),
        (0, 3, OUT),
        (0, None, OUT),
        (0, 0, OUT),
        (1, 3, LOW),
        (3, 3, LOW),  # at the threshold is low
        (4, 3, IN),
        (1, 0, IN),
        (1, None, IN),
        (1_000_000, None, IN),
    ],
)
def test_stock_state(available: int, threshold: int | None, state: StockState) -> None:
    assert stock_state(available, threshold) is state


@pytest.mark.parametrize(
    ("previous", "current", "alert"),
    [
        (IN, LOW, AlertKind.LOW_STOCK),
        (IN, OUT, AlertKind.OUT_OF_STOCK),
        (LOW, OUT, AlertKind.OUT_OF_STOCK),
        (OUT, LOW, AlertKind.BACK_IN_STOCK),
        (OUT, IN, AlertKind.BACK_IN_STOCK),
        (LOW, IN, None),  # recovered: nothing to act on
        (IN, IN, None),
        (LOW, LOW, None),
        (OUT, OUT, None),
    ],
)
def test_crossing(previous: StockState, current: StockState, alert: AlertKind | None) -> None:
    assert crossing(previous, current) is alert


def alerts_along(path: list[int], threshold: int | None, start: int = 0) -> list[AlertKind]:
    """The alerts a SKU raises as its total available walks `path` (starting at `start`)."""
    raised: list[AlertKind] = []
    state = stock_state(start, threshold)
    for available in path:
        current = stock_state(available, threshold)
        kind = crossing(state, current)
        if kind is not None:
            raised.append(kind)
        state = current
    return raised


def test_walk_down_and_back_raises_each_alert_once() -> None:
    # Threshold 3, from 10: LOW_STOCK once when reaching 3, nothing further at 2 and 1,
    # OUT_OF_STOCK at 0 (once, however long it stays there), BACK_IN_STOCK on restock,
    # nothing when it goes from low back to in stock.
    path = [10, 8, 4, 3, 2, 1, 0, 0, 5, 2, 9, 9]
    assert alerts_along(path, 3, start=10) == [
        AlertKind.LOW_STOCK,
        AlertKind.OUT_OF_STOCK,
        AlertKind.BACK_IN_STOCK,
        AlertKind.LOW_STOCK,
    ]


def test_straight_to_zero_is_out_of_stock_not_low() -> None:
    assert alerts_along([10, 0], 3, start=10) == [AlertKind.OUT_OF_STOCK]


def test_out_to_low_is_back_in_stock_only() -> None:
    assert alerts_along([2, 3, 10], 3, start=0) == [AlertKind.BACK_IN_STOCK]


@given(
    path=st.lists(st.integers(min_value=-2, max_value=20), max_size=40),
    threshold=st.none() | st.integers(min_value=0, max_value=10),
    start=st.integers(min_value=0, max_value=20),
)
def test_alerts_only_on_changes_of_state(
    path: list[int], threshold: int | None, start: int
) -> None:
    states = [stock_state(start, threshold)] + [stock_state(a, threshold) for a in path]
    raised = alerts_along(path, threshold, start)
    changes = [(a, b) for a, b in itertools.pairwise(states) if a is not b]
    # An alert for every change except low -> in stock; never one without a change.
    assert len(raised) == len([c for c in changes if c != (LOW, IN)])
    # Every OUT_OF_STOCK is eventually a fresh one: never two in a row without leaving OUT.
    out_alerts = [i for i, kind in enumerate(raised) if kind is AlertKind.OUT_OF_STOCK]
    for first, second in itertools.pairwise(out_alerts):
        assert AlertKind.BACK_IN_STOCK in raised[first + 1 : second]
    if threshold is None or threshold == 0:
        assert AlertKind.LOW_STOCK not in raised
