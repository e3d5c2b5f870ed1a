"""Order webhooks whose jobs run together are taken in and reserved together.

The hub of `test_webhooks` (a Shopify sandbox posting signed webhooks to the app, jobs
held). Processing jobs run at once, as a worker runs them: the process's `InboxIntake`
serves them in batches (`adapters/desks/inbox.py`), and what a batch does must be what the
one-by-one way does: each order once, each line reserved once, its history, the audit clean.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.db.tables import reservations
from adapters.desks.inbox import InboxIntake
from domain.jobs import ALLOCATE_JOB
from domain.orders.ports import OrderFilter
from domain.sync import inbox
from tests.api.test_webhooks import AUDIT, ITEM, SHOP_LOCATION, SKU, Hub, hub, settings, signed
from workers.jobs.inbox import process_inbox
from workers.jobs.orders import allocate_open_orders, allocate_order

__all__ = ["hub", "settings"]  # the fixtures, shared with test_webhooks

ORDER_TOPIC = "orders/create"
RECEIVE = """
mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { field message } } }"""


async def receive(hub: Hub, quantity: int) -> None:
    """More stock at the warehouse, on the shop too (the shop's echo of it processed)."""
    given = {"sku": SKU, "locationId": hub.location, "quantity": quantity,
             "idempotencyKey": f"more-{uuid.uuid4()}"}  # fmt: skip
    payload = (await hub.call(RECEIVE, i=given))["receiveStock"]
    assert payload["userErrors"] == []
    await hub.relay()
    await hub.sandbox.deliver_pending_webhooks()
    await hub.process()


async def run_together(hub: Hub, ids: list[str]) -> list[Any]:
    """The processing jobs of `ids`, all started at once (a worker's concurrent jobs)."""
    return await asyncio.gather(*(process_inbox(hub.container.job_context, i) for i in ids))


async def orders(hub: Hub) -> list[Any]:
    async with hub.container.uow(readonly=True) as uow:
        return await uow.orders.page(first=100, after=None, filter=OrderFilter())


async def active_holds(hub: Hub) -> list[Any]:
    async with hub.container.engine.connect() as conn:
        rows = await conn.execute(reservations.select().where(reservations.c.status == "active"))
        return list(rows)


def no_batch_failed(caplog: pytest.LogCaptureFixture) -> bool:
    return not [r for r in caplog.records if r.getMessage() == "inbox.batch_failed"]


async def test_orders_arriving_together_are_taken_in_and_reserved_in_batches(
    hub: Hub, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    one_by_one: list[uuid.UUID] = []

    async def act_on(uows: Any, entry: Any, *args: Any, **kwargs: Any) -> Any:
        one_by_one.append(entry.id)
        return await inbox.act_on(uows, entry, *args, **kwargs)

    monkeypatch.setattr("adapters.desks.inbox.act_on", act_on)
    await receive(hub, 20)  # 30 on hand, and on the shop
    for _ in range(12):
        await hub.sandbox.place_order([(SKU, 2)], location_gid=SHOP_LOCATION)
    ids = hub.held.events()
    assert len(ids) == 24  # each sale: orders/create and the shop's own stock update
    rounds = hub.container.inbox_intake.batcher(timedelta(0)).rounds

    statuses = await run_together(hub, ids)

    # The orders, and the last sale's stock update (in step); the older updates report
    # figures the sales after them have lowered since, and are ignored.
    assert Counter(statuses) == {"processed": 13, "ignored": 11}
    assert one_by_one == []  # the shop's stock updates were settled in the batch too
    assert no_batch_failed(caplog)
    made = hub.container.inbox_intake.batcher(timedelta(0)).rounds - rounds
    assert made <= 3, f"{made} runs for 24 events arriving together"
    taken = await orders(hub)
    assert len(taken) == 12
    assert {o.status.value for o in taken} == {"allocated"}
    assert all(
        ln.reservation_id and ln.status.value == "allocated" for o in taken for ln in o.lines
    )
    assert hub.held.take(ALLOCATE_JOB) == []  # reserved in the batch, no second job
    holds = await active_holds(hub)
    assert sorted(h.reference for h in holds) == sorted(f"order:{o.id}" for o in taken)
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (30, 24, 6)
    async with hub.container.uow(readonly=True) as uow:
        history = await uow.orders.transitions(taken[0].id)
    assert [t.to_status.value for t in history] == ["open", "allocated"]
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}
    # The shop heard the hub's new figure; its own stock updates found the hub in step.
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 6


async def test_an_order_the_stock_cannot_cover_goes_to_the_one_order_allocation(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await hub.sandbox.place_order([(SKU, 6)], location_gid=SHOP_LOCATION)
    await hub.sandbox.place_order([(SKU, 6)], location_gid=SHOP_LOCATION)  # 10 on hand
    ids = hub.held.events()

    await run_together(hub, ids)

    assert no_batch_failed(caplog)
    taken = {o.status.value: o for o in await orders(hub)}
    assert sorted(taken) == ["allocated", "open"]  # both stored, their events settled
    left = taken["open"]
    [(order_id, lease)] = hub.held.take(ALLOCATE_JOB)  # handed the order's lease
    assert order_id == str(left.id)
    await allocate_order(hub.container.job_context, order_id, lease)
    # The one-order way settles it: no unit anywhere, none to take back (first come).
    [short] = [o for o in await orders(hub) if o.id == left.id]
    assert short.lines[0].status.value == "short"
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"]) == (10, 6)
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_later_version_in_the_same_batch_is_applied_after_the_first(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)
    [created] = [e for e in await hub.events() if e["topic"] == ORDER_TOPIC]
    order = json.loads(created["payload"])
    later = datetime.fromisoformat(order["updated_at"]) + timedelta(minutes=1)
    cancelled = {**order, "cancelled_at": later.isoformat(), "updated_at": later.isoformat()}
    body = json.dumps(cancelled).encode()
    response = await hub.post(body, signed(body, topic="orders/updated"))
    assert response.status_code == 200
    ids = hub.held.events()
    assert created["id"] in ids

    await run_together(hub, ids)

    assert no_batch_failed(caplog)
    [taken] = await orders(hub)  # one order, the cancellation applied to it
    assert taken.status.value == "cancelled"
    statuses = {e["id"]: e["status"] for e in await hub.events()}
    assert {statuses[i] for i in ids} == {"PROCESSED"}


@pytest.mark.parametrize("workers", [2, 3])
async def test_workers_taking_the_same_events_at_once_take_each_order_once(
    hub: Hub, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Each worker process has its own intake; a run request can reach more than one."""
    caplog.set_level(logging.INFO)
    await receive(hub, 90)  # 100 on hand, and on the shop
    for n in range(10):
        await hub.sandbox.place_order([(SKU, 1 + n % 3)], location_gid=SHOP_LOCATION)
    ids = [uuid.UUID(i) for i in hub.held.events()]
    intakes = [InboxIntake(hub.container.uow, hub.container.connector) for _ in range(workers)]

    await asyncio.gather(*(intake.process(i, hold=timedelta(0)) for intake in intakes for i in ids))

    taken = await orders(hub)
    assert len(taken) == 10
    wanted = sum(1 + n % 3 for n in range(10))
    holds = await active_holds(hub)
    assert sum(h.quantity for h in holds) == wanted  # no line reserved twice
    assert len(holds) == 10
    # Whatever the interleaving, the ones not reserved in a batch were asked for again.
    for order_id, lease in hub.held.take(ALLOCATE_JOB):
        await allocate_order(hub.container.job_context, order_id, lease)
    assert {o.status.value for o in await orders(hub)} == {"allocated"}
    assert len(await active_holds(hub)) == 10
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"]) == (100, wanted)
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_an_order_whose_allocation_request_was_lost_is_reserved_once_its_lease_lapsed(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = hub.container.job_context
    await hub.sandbox.place_order([(SKU, 2)], location_gid=SHOP_LOCATION)
    for inbox_id in hub.held.events():  # the one-by-one way (stored alone or together)
        await inbox.process(hub.container.uow, hub.container.connector, uuid.UUID(inbox_id))
    [(order_id, lost)] = hub.held.take(ALLOCATE_JOB)  # the queue lost it

    assert await allocate_open_orders(ctx) == 0  # its lease is live: its run may be under way
    lease = timedelta(seconds=hub.container.settings.allocation_lease_seconds)
    later = datetime.now(UTC) + lease + timedelta(seconds=1)
    monkeypatch.setattr("workers.jobs.orders.utcnow", lambda: later)
    assert await allocate_open_orders(ctx) == 1
    [(again, run)] = hub.held.take(ALLOCATE_JOB)
    assert again == order_id
    assert run != lost

    assert await allocate_order(ctx, order_id, lost) == "open"  # late: the lease moved on
    assert await allocate_order(ctx, order_id, run) == "allocated"
    [order] = await orders(hub)
    assert order.status.value == "allocated"
    assert await allocate_open_orders(ctx) == 0
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"]) == (10, 2)
