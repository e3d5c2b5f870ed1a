"""What becomes of a line that lost a contested last unit, as its channel's policy says.

Backordered (the default): the line stays, `short`, until stock comes. Cancelled: the line
is cancelled in the hub and its channel is told through the outbox, in the same
transaction, so the customer hears it from the channel that sold it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.policies import LosingLine
from domain.orders.events import order_event
from domain.orders.model import LineStatus, Order, OrderLine
from domain.ports import UnitOfWork


def settle(line: OrderLine, losing: LosingLine, why: str) -> tuple[OrderLine, str]:
    """The losing line, short or cancelled, and the resolution saying which and why."""
    if losing is LosingLine.CANCEL:
        cancelled = replace(line, status=LineStatus.CANCELLED, reservation_id=None)
        return cancelled, f"{why}; cancelled on its channel"
    return replace(line, status=LineStatus.SHORT, reservation_id=None), f"{why}; backordered"


async def tell_channel(
    uow: UnitOfWork, order: Order, lines: Sequence[OrderLine], reason: str, now: datetime
) -> None:
    """Mark the order's lines cancelled here for its channel to cancel them too."""
    cancelled = [line for line in lines if line.status is LineStatus.CANCELLED]
    if not cancelled:
        return
    await mark_dirty(
        uow, [Dirty(order.channel_id, OutboxKind.LINE_CANCEL, str(ln.id)) for ln in cancelled], now
    )
    for line in cancelled:
        uow.emit(order_event(order, "line_cancelled", f"{line.channel_line_id}: {reason}"))
