"""What a batch of receipts and counts tells the world, against one call per line: the
same final state per level moved (one event each), alerts, outbox marks and jobs."""

from __future__ import annotations

from typing import Any

from domain.inventory import stock, stock_batches
from domain.inventory.events import ALERT_TOPIC, STOCK_TOPIC
from domain.inventory.model import MovementReason
from domain.inventory.setup import create_inventory_item
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, Stockroom

OTHER = "TSHIRT-L"
RECEIVE, COUNT = MovementReason.RECEIVE, MovementReason.COUNT
LINES = [
    (RECEIVE, "WH1", 10), (RECEIVE, "ST1", 3), (COUNT, "WH1", 7), (RECEIVE, "ST1", 2),
    (RECEIVE, "FBA", 4), (COUNT, "WH1", 0), (COUNT, "ST1", 5), (RECEIVE, "WH1", 3),
]  # fmt: skip


def _entries(room: Stockroom, sku: str) -> list[stock_batches.StockEntry]:
    return [
        stock_batches.StockEntry(reason, sku, room.at(code), quantity, f"{sku}-{n}")
        for n, (reason, code, quantity) in enumerate(LINES)
    ]


def _last_per_level(uows: FakeUnitOfWorkFactory, sku: str) -> dict[str, dict[str, Any]]:
    return {
        e.payload["locationCode"]: e.payload
        for e in uows.published
        if e.topic == STOCK_TOPIC and e.payload["sku"] == sku
    }


def _state(payload: dict[str, Any]) -> tuple[object, ...]:
    quantities = [(c["name"], c["quantity"]) for c in payload["channels"]]
    return (
        payload["onHand"],
        payload["reserved"],
        payload["available"],
        payload["reason"],
        quantities,
    )


async def test_a_batch_tells_what_one_call_per_line_tells(
    uows: FakeUnitOfWorkFactory, room: Stockroom
) -> None:
    async with uows() as uow:
        await create_inventory_item(uow, sku=OTHER, low_stock_threshold=3)
        await uow.commit()
    uows.published.clear()

    await stock_batches.receive_and_count(uows, _entries(room, SKU), actor="test", clock=room.clock)
    for entry in _entries(room, OTHER):
        if entry.reason is RECEIVE:
            await stock.receive(
                uows, sku=OTHER, location_id=entry.location_id, quantity=entry.quantity,
                key=entry.key, actor="test", clock=room.clock,
            )  # fmt: skip
        else:
            await stock.count(
                uows, sku=OTHER, location_id=entry.location_id, on_hand=entry.quantity,
                expected_on_hand=None, key=entry.key, actor="test", clock=room.clock,
            )  # fmt: skip

    batch, single = _last_per_level(uows, SKU), _last_per_level(uows, OTHER)
    stock_events = [e for e in uows.published if e.topic == STOCK_TOPIC]
    assert sum(e.payload["sku"] == SKU for e in stock_events) == 3  # one per level moved
    assert sum(e.payload["sku"] == OTHER for e in stock_events) == len(LINES)
    assert sorted(batch) == sorted(single) == ["FBA", "ST1", "WH1"]
    assert _state(batch["WH1"]) == _state(single["WH1"])  # the last line: all levels final
    for code in ("FBA", "ST1"):  # earlier lines: the same level, channels heard later
        assert _state(batch[code])[:4] == _state(single[code])[:4]
    alerts = [
        (e.payload["sku"], e.payload["kind"]) for e in uows.published if e.topic == ALERT_TOPIC
    ]
    assert sorted(alerts) == [(OTHER, "BACK_IN_STOCK"), (SKU, "BACK_IN_STOCK")]
    marked = sorted((row.entry.key, row.entry.kind.value) for row in uows.committed.outbox.values())
    assert marked == [(OTHER, "quantity"), (SKU, "quantity")]
    jobs = [(name, args) for name, args, _ in uows.enqueued]
    assert {(n, a) for n, a in jobs if SKU in a} == {
        (n, tuple(SKU if x == OTHER else x for x in a)) for n, a in jobs if OTHER in a
    }
