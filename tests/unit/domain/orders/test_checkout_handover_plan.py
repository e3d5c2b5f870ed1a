"""Which of a cart's holds each line of its order keeps (a pure rule: no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.inventory.model import Reservation, ReservationStatus
from domain.orders.checkout import plan_handover
from domain.orders.model import LineStatus, OrderLine

T0 = datetime(2026, 12, 1, tzinfo=UTC)
WH = uuid.uuid4()
ORDER = uuid.uuid4()


def hold(sku: str, quantity: int, minute: int = 0) -> Reservation:
    return Reservation(
        uuid.uuid4(), sku, WH, quantity, ReservationStatus.ACTIVE, "cart:c",
        T0 + timedelta(minutes=minute), T0 + timedelta(minutes=15),
    )  # fmt: skip


def line(sku: str, quantity: int) -> OrderLine:
    return OrderLine(uuid.uuid4(), ORDER, "1", sku, sku, quantity, 100, "USD", LineStatus.OPEN)


def test_each_line_keeps_the_hold_of_its_sku_and_quantity() -> None:
    a, b = hold("A", 2), hold("B", 1)
    la, lb = line("A", 2), line("B", 1)

    plan = plan_handover([la, lb], [b, a])

    assert (plan.kept, plan.lacking, plan.surplus) == ({la.id: a, lb.id: b}, (), ())


def test_a_line_the_cart_holds_nothing_exact_for_is_lacking_and_frees_its_skus_holds() -> None:
    first, second, other = hold("A", 1, 0), hold("A", 1, 1), hold("C", 4, 2)
    wanted = line("A", 3)

    plan = plan_handover([wanted], [second, other, first])

    assert plan.kept == {}
    assert plan.lacking == (wanted,)
    assert plan.surplus == (first, second, other)  # oldest first


def test_two_lines_of_one_sku_take_two_holds_oldest_first_and_leave_the_rest() -> None:
    old, new, spare = hold("A", 1, 0), hold("A", 1, 1), hold("A", 2, 2)
    one, two = line("A", 1), line("A", 1)

    plan = plan_handover([one, two], [spare, new, old])

    assert plan.kept == {one.id: old, two.id: new}
    assert (plan.lacking, plan.surplus) == ((), (spare,))


def test_with_no_hold_every_line_is_lacking() -> None:
    lines = [line("A", 1), line("B", 2)]

    plan = plan_handover(lines, [])

    assert (plan.kept, plan.lacking, plan.surplus) == ({}, tuple(lines), ())
