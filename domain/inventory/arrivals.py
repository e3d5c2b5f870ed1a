"""Stock that arrives may fill backordered order lines: the commit that brings it asks for it.

A receipt, a return, a transfer in, a count or adjustment up, or a channel's accepted edit
makes units available at a location. A line that lost the last unit waits, `short`, for
exactly that; the job that fills such lines is requested here, after the commit, so it
reads the stock as committed. Releases and expiries are left to the periodic sweep: they
happen on every cart and would request a job each for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.inventory.model import LevelChange, MovementReason
from domain.jobs import BACKORDER_JOB
from domain.ports import UnitOfWork

ARRIVING = frozenset(
    {
        MovementReason.RECEIVE,
        MovementReason.RETURN,
        MovementReason.TRANSFER,
        MovementReason.COUNT,
        MovementReason.ADJUST,
        MovementReason.CHANNEL_EDIT,
    }
)


def brought_stock(changes: Sequence[LevelChange], reason: MovementReason) -> bool:
    """Whether the changes may have made units available somewhere.

    A transfer leaves the SKU's total as it was yet brings units to its destination; stock
    the hub does not sell itself (a channel-managed location) moves no total, so its change
    is taken as an arrival."""
    if reason not in ARRIVING:
        return False
    if reason is MovementReason.TRANSFER:
        return True
    return any(
        c.sku_available_before is None
        or c.sku_available_after is None
        or c.sku_available_after > c.sku_available_before
        for c in changes
    )


def stock_arrived(
    uow: UnitOfWork, sku: str, changes: Sequence[LevelChange], reasons: Sequence[MovementReason]
) -> None:
    """In the transaction that changed the levels (each for its reason): fill the SKU's
    backorders after it."""
    if any(brought_stock([change], why) for change, why in zip(changes, reasons, strict=True)):
        uow.enqueue_after_commit(BACKORDER_JOB, sku)
