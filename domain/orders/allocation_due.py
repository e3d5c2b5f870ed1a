"""An order's allocation is as durable as the order: recorded due in the order's transaction.

Reserving stock comes after storing the order; a crash in between must not leave the order
holding nothing, its units offered elsewhere, until a job retry minutes later. So the order
is recorded due with it, leased to the run about to reserve it. A run goes ahead only under
the lease (`claim`); the record goes in the transaction that records the outcome (`settle`);
a lease left to lapse (its run died, its request was lost) goes to a new run (`sweep`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from domain.jobs import ALLOCATE_JOB
from domain.orders.model import LineStatus, Order, OrderLine, OrderStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory

ALLOCATABLE = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_ALLOCATED})
SWEEP_BATCH = 200


def waiting_lines(order: Order) -> list[OrderLine]:
    """The lines an allocation run would reserve now (none while the order may not hold)."""
    if order.status not in ALLOCATABLE:
        return []
    return [ln for ln in order.lines if ln.status is LineStatus.OPEN and ln.sku]


async def mark_due(uow: UnitOfWork, order: Order, now: datetime) -> uuid.UUID | None:
    """In the transaction storing or changing the order: its allocation is due if a line
    waits. Returns the lease the caller's run holds; None when nothing is due, or when it
    already was (its lease stays with the run that holds it)."""
    if not waiting_lines(order):
        await uow.due_allocations.clear([order.id])
        return None
    lease = uuid.uuid4()
    return lease if await uow.due_allocations.mark(order.id, lease, now) else None


async def mark_new_due(
    uow: UnitOfWork, orders: Sequence[Order], now: datetime
) -> dict[uuid.UUID, uuid.UUID]:
    """`mark_due` for orders just inserted: the lease of each that is due."""
    leases = {order.id: uuid.uuid4() for order in orders if waiting_lines(order)}
    marked = await uow.due_allocations.mark_many(leases, now)
    return {order_id: lease for order_id, lease in leases.items() if order_id in marked}


async def claim(
    uow: UnitOfWork, order_id: uuid.UUID, lease: uuid.UUID | None, now: datetime
) -> bool:
    """Whether a run may allocate the order: one handed a lease only while it is still the
    order's; one without (a person asking now) over whoever holds it. Each run takes a new
    lease, so a job delivered twice runs once."""
    taken = await uow.due_allocations.claim(order_id, lease, uuid.uuid4(), now)
    return taken or lease is None


async def settle(uow: UnitOfWork, orders: Sequence[Order]) -> None:
    """In the transaction recording the orders' allocation (reserved, short, in conflict):
    nothing is due of them any more, unless a line still waits (mapped meanwhile).

    A path that stores an order already reserved (a checkout handing its cart's holds over)
    calls it in that transaction too, or stores the order with no line waiting."""
    await uow.due_allocations.clear([o.id for o in orders if not waiting_lines(o)])


async def sweep(
    uows: UnitOfWorkFactory, *, lease: timedelta, clock: Callable[[], datetime]
) -> list[uuid.UUID]:
    """Hand the allocations whose lease lapsed to new runs (requested after commit); their
    orders' ids. One indexed read when none has lapsed."""
    now = clock()
    claimed_before = now - lease
    async with uows(readonly=True) as uow:
        if not await uow.due_allocations.any_lapsed(claimed_before):
            return []
    run = uuid.uuid4()
    async with uows() as uow:
        taken = await uow.due_allocations.claim_lapsed(claimed_before, run, now, SWEEP_BATCH)
        for order_id in taken:
            uow.enqueue_after_commit(ALLOCATE_JOB, str(order_id), str(run))
        await uow.commit()
    return taken
