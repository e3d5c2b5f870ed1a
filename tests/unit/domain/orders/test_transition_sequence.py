"""An order's history reads as a chain even when one transaction records several steps at
the same moment (the database's tie-break, a random id, says nothing of their order)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.orders.model import OrderStatus, Transition, in_sequence

ORDER = uuid.uuid4()
T0 = datetime(2026, 12, 7, tzinfo=UTC)


def step(start: OrderStatus | None, end: OrderStatus, at: datetime = T0) -> Transition:
    return Transition(ORDER, start, end, "test", "", at)


def test_steps_of_one_moment_follow_each_other_whatever_order_they_are_read_in() -> None:
    created = step(None, OrderStatus.OPEN)
    allocated = step(OrderStatus.OPEN, OrderStatus.ALLOCATED)
    later = step(OrderStatus.ALLOCATED, OrderStatus.SHIPPED, T0 + timedelta(seconds=1))

    assert in_sequence([later, allocated, created]) == [created, allocated, later]
    assert in_sequence([allocated, created, later]) == [created, allocated, later]


def test_a_moment_continues_from_where_the_one_before_ended() -> None:
    first = step(None, OrderStatus.ALLOCATED)
    back = step(OrderStatus.ALLOCATED, OrderStatus.OPEN, T0 + timedelta(seconds=1))
    again = step(OrderStatus.OPEN, OrderStatus.ALLOCATED, T0 + timedelta(seconds=1))

    assert in_sequence([again, back, first]) == [first, back, again]
