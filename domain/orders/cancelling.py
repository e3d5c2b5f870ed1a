"""A merchant cancels an order, whole or some of its lines: what they hold is let go, and
their channel is told.

What has not shipped can be cancelled: an allocated line, a line waiting for stock, and the
rest of a line shipped in part (its shipped units stay shipped, to come back as a return).
Whole, the order's unshipped rest is cancelled, so a partly shipped order keeps its shipped
lines; by line, a shipped line named is a typed error and nothing changes. All in one unit
of work, as a cancellation taken from the channel is (`cancelled_on_channel`): the order is
locked, then its reservations, then their levels, and the channel hears of it through the
outbox (`LINE_CANCEL`, the path a line that lost a last unit takes) and a partner shipping
its lines through a cancellation of its request (`handoff.withdraw`), so no one sees the
order cancelled yet holding stock. Asked again, there is nothing left to cancel: the order
is returned as it is, with one transition and one release in the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InvalidInput, NotFound
from domain.inventory.releasing import LetGo, release_locked
from domain.orders import handoff, losing
from domain.orders.allocation import order_status, reference
from domain.orders.cancelled_on_channel import GONE
from domain.orders.events import order_event
from domain.orders.model import LineStatus, Order, OrderLine, OrderStatus, Transition
from domain.ports import UnitOfWorkFactory

MAX_LINES = 250


async def cancel_order(
    uows: UnitOfWorkFactory,
    *,
    order_id: uuid.UUID,
    reason: str,
    key: str,
    actor: str,
    line_ids: Sequence[uuid.UUID] | None = None,
    clock: Clock = utcnow,
) -> Order:
    """Cancel what has not shipped of the order (or of the lines named): its reservations
    are released and its channel is told."""
    if line_ids is not None and not 1 <= len(line_ids) <= MAX_LINES:
        raise InvalidInput(f"name 1 to {MAX_LINES} lines to cancel", field="lineIds")
    now = clock()
    async with uows() as uow:
        current = await uow.orders.lock(order_id)
        if current is None:
            raise NotFound(f"unknown order {order_id}", field="orderId")
        targets = _to_cancel(current, line_ids)
        if not targets:
            return current  # cancelled already: a replay
        changed = [replace(ln, status=LineStatus.CANCELLED, reservation_id=None) for ln in targets]
        by_id = {ln.id: ln for ln in changed}
        lines = tuple(by_id.get(ln.id, ln) for ln in current.lines)
        status = _status(current, lines)
        updated = replace(current, lines=lines, status=status, updated_at=now)
        # Whole, every hold under the order's reference goes (one an allocation run made but
        # has not recorded on its line yet too); by line, the holds of those lines.
        held = await uow.inventory.lock_reservations([reference(order_id)])
        mine = {ln.reservation_id for ln in targets}
        releases = [
            LetGo(r, actor, f"{key}:{r.id}") for r in held if line_ids is None or r.id in mine
        ]
        await release_locked(uow, releases, now)
        await uow.orders.save(updated, changed)
        what = reason or "cancelled"
        if line_ids is not None or status is not OrderStatus.CANCELLED:
            what = f"{len(changed)} line(s) cancelled: {what}"
        await uow.orders.add_transition(
            Transition(order_id, current.status, status, actor, what, now)
        )
        await losing.tell_channel(uow, updated, changed, reason or "cancelled in Nexo", now)
        await handoff.withdraw(uow, current, updated, reason or "cancelled in Nexo", now)
        if status is OrderStatus.CANCELLED:
            uow.emit(order_event(updated, "cancelled", reason))
        await uow.commit()
    return updated


def _to_cancel(order: Order, line_ids: Sequence[uuid.UUID] | None) -> list[OrderLine]:
    """The lines to cancel now; a typed error if one named (or, whole, all) shipped."""
    if line_ids is None:
        left = [ln for ln in order.lines if ln.status not in GONE]
        if left or order.status is OrderStatus.CANCELLED:
            return left
        if any(ln.status is LineStatus.CANCELLED for ln in order.lines):
            return []  # its unshipped rest was cancelled already: a replay
        raise IllegalState("shipped lines cannot be cancelled; return them", field="orderId")
    by_id = {line.id: line for line in order.lines}
    targets: list[OrderLine] = []
    for n, line_id in enumerate(line_ids):
        line = by_id.get(line_id)
        if line is None:
            raise NotFound(f"order has no line {line_id}", field=f"lineIds[{n}]")
        if line.status in (LineStatus.SHIPPED, LineStatus.RETURNED):
            raise IllegalState(
                f"line {line.channel_line_id} is {line.status.value}: return it instead",
                field=f"lineIds[{n}]",
            )
        if line.status is not LineStatus.CANCELLED and line not in targets:
            targets.append(line)
    return targets


def _status(order: Order, lines: tuple[OrderLine, ...]) -> OrderStatus:
    """Nothing of it left and nothing shipped: cancelled (an unpaid order too); else as its
    lines say, a cancelled line's shipped units counting as shipped."""
    if all(ln.status is LineStatus.CANCELLED and not ln.shipped_quantity for ln in lines):
        return OrderStatus.CANCELLED
    return order_status(lines, order.status)
