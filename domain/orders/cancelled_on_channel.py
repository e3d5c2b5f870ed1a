"""An order its channel cancelled lets go of what it holds, in the transaction recording it.

What has not shipped is cancelled, as a merchant's `cancel_order` does: the lines become
`cancelled` and the units the order still holds are released (the rest of a line shipped in
part included); shipped lines stay shipped, to come back as returns. Done in the unit of work
taking the channel's version in, so no one ever sees the order cancelled yet holding stock,
and a crash in between cannot strand its units. The caller has locked the orders: their
reservations, then their levels, are locked after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.inventory.releasing import LetGo, release_locked
from domain.orders.allocation import reference
from domain.orders.model import LineStatus, Order, OrderLine
from domain.ports import UnitOfWork

# Lines whose units left (or came back): the channel's cancellation does not touch them.
GONE = frozenset({LineStatus.SHIPPED, LineStatus.RETURNED, LineStatus.CANCELLED})


def cancel_unshipped(order: Order) -> tuple[tuple[OrderLine, ...], list[OrderLine]]:
    """The order's lines once its channel cancelled it, and those that changed."""
    changed = [
        replace(line, status=LineStatus.CANCELLED, reservation_id=None)
        for line in order.lines
        if line.status not in GONE
    ]
    by_id = {line.id: line for line in changed}
    return tuple(by_id.get(line.id, line) for line in order.lines), changed


async def let_go(uow: UnitOfWork, cancelled: Sequence[tuple[Order, str]], now: datetime) -> None:
    """Release every unit the cancelled orders (each with who took its cancellation in) hold.

    By the orders' reference rather than their lines: a hold an allocation run made but has
    not recorded on its line yet goes too (that run then finds the line cancelled)."""
    actors = {reference(order.id): actor for order, actor in cancelled}
    held = await uow.inventory.lock_reservations(sorted(actors))
    releases = [
        LetGo(r, actors[r.reference or ""], f"{r.reference}:cancelled-on-channel") for r in held
    ]
    await release_locked(uow, releases, now)
