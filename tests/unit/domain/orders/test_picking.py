"""The pick list's batching, on orders built by hand: one slot per SKU across orders, in the
walking order of its bins (natural: A-2 before A-10; no bin last), only lines reserved at
the location, not picked yet, with what each has left to ship."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidInput
from domain.inventory.bins import check_bin, walk_order
from domain.orders.model import (
    Customer,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PickStage,
)
from domain.orders.picking import PickLine, batch

T0 = datetime(2026, 3, 1, tzinfo=UTC)
WH, STORE = uuid.uuid4(), uuid.uuid4()
Line = tuple[str, int, LineStatus, uuid.UUID, PickStage | None, int]


def _order(number: str, *lines: Line, status: OrderStatus = OrderStatus.ALLOCATED) -> Order:
    order_id = uuid.uuid4()
    return Order(
        id=order_id, channel_id=uuid.uuid4(), external_id=number, number=number, status=status,
        placed_at=T0, channel_updated_at=T0, customer=Customer("Ada"), shipping_address={},
        currency="USD", total_minor=None, needs_attention=False, attention_reason=None,
        created_at=T0, updated_at=T0,
        lines=tuple(
            OrderLine(uuid.uuid4(), order_id, f"{number}-{n}", sku, sku, quantity, 100, "USD",
                      line_status, location_id=location, reservation_id=uuid.uuid4(),
                      stage=stage, shipped_quantity=shipped)
            for n, (sku, quantity, line_status, location, stage, shipped) in enumerate(lines)
        ),
    )  # fmt: skip


def test_lines_are_batched_per_sku_and_walked_by_bin() -> None:
    a = _order(
        "A",
        ("X", 2, LineStatus.ALLOCATED, WH, None, 0),
        ("Y", 5, LineStatus.PARTIALLY_SHIPPED, WH, None, 3),  # 2 left to ship
        ("Z", 1, LineStatus.ALLOCATED, WH, None, 0),
        ("X", 1, LineStatus.ALLOCATED, STORE, None, 0),  # another location's
    )
    b = _order(
        "B",
        ("X", 4, LineStatus.ALLOCATED, WH, None, 0),
        ("Y", 1, LineStatus.ALLOCATED, WH, PickStage.PICKED, 0),  # picked already
        ("Z", 1, LineStatus.SHORT, WH, None, 0),  # nothing reserved
    )
    cancelled = _order("C", ("X", 9, LineStatus.ALLOCATED, WH, None, 0),
                       status=OrderStatus.CANCELLED)  # fmt: skip

    slots = batch([a, b, cancelled], WH, {"X": "A-10", "Y": "A-2"})

    assert [(s.sku, s.bin, s.quantity) for s in slots] == [
        ("Y", "A-2", 2), ("X", "A-10", 6), ("Z", None, 1),
    ]  # fmt: skip
    assert slots[1].lines == (
        PickLine(a.id, "A", a.lines[0].id, 2), PickLine(b.id, "B", b.lines[0].id, 4),
    )  # fmt: skip
    assert batch([a, b], STORE, {}) == batch([a], STORE, {})  # only A has a line there


def test_bins_sort_naturally_and_are_checked() -> None:
    bins = ["B-1", "A-10", "a-2", "A-2-1", None, "A-9"]
    assert sorted(bins, key=walk_order) == ["a-2", "A-2-1", "A-9", "A-10", "B-1", None]
    assert check_bin("  A-03/2 ") == "A-03/2"
    assert check_bin("  ") is None
    for bad in ("-A", "A" * 33, "A;B"):
        with pytest.raises(InvalidInput):
            check_bin(bad)
