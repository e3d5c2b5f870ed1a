"""Two allocation runs of one order: the one that records second keeps nothing it reserved.

The one-order run (`allocate`) reads the order, reserves, then records. Another run (a
worker's batch, or the sweep's) can settle the order in between, having routed it elsewhere
(the stock moved): then two reservations hold the order's units. The second run to record
finds the line settled, keeps that outcome and gives its own units back.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.inventory import reservations
from domain.orders.allocation import allocate
from domain.orders.batch_allocation import allocate_many
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, OrderStatus
from tests.integration.orders.conftest import Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


async def test_a_run_that_records_second_gives_back_what_it_reserved(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hub.receive(10)
    taken = await ingest(
        hub.container.uow, hub.shop, channel_order("A", [("PART-1", 3)]), actor="t"
    )
    order_id = taken.order.id
    real = reservations.reserve_lines

    async def another_run_first(uows: Any, *, key: str, **kwargs: Any) -> Any:
        # The batch settles the order first; this run then reserves under a key of its own,
        # as it would had it routed the order elsewhere.
        assert await allocate_many(uows, [order_id], actor="batch") == []
        return await real(uows, key=f"{key}:elsewhere", **kwargs)

    monkeypatch.setattr(reservations, "reserve_lines", another_run_first)

    order = await allocate(hub.container.uow, order_id, actor="one-order job")

    assert order is not None
    assert order.status is OrderStatus.ALLOCATED
    [line] = order.lines
    assert line.status is LineStatus.ALLOCATED
    held = [r for r in await hub.reservations(order_id) if r.status.value == "active"]
    assert [r.id for r in held] == [line.reservation_id]  # the batch's, and only it
    assert await hub.level() == (10, 3)
    await hub.assert_ledger_clean()
