"""After levels change inside a unit of work: raise alerts on crossings, queue stock events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.inventory.alerts import Alert, crossing, stock_state
from domain.inventory.channels import ChannelForSku
from domain.inventory.events import alert_raised, stock_changed
from domain.inventory.model import MovementReason, SkuSnapshot, StockLevel
from domain.ports import UnitOfWork


async def levels_changed(
    uow: UnitOfWork,
    snapshot: SkuSnapshot,
    levels: Sequence[StockLevel],
    reason: MovementReason,
    channels: Sequence[ChannelForSku],
    now: datetime,
) -> SkuSnapshot:
    """Fold the changed levels into the snapshot, alert on a threshold crossing, emit events.

    The alert state is moved with a conditional update, so each crossing alerts once even
    when concurrent changes race to report it.
    """
    for level in levels:
        snapshot = snapshot.with_level(level)
    # The state as last committed: the snapshot's copy may predate a concurrent crossing,
    # and moving from a stale state would fail and leave the state (and its alert) behind.
    item = await uow.inventory.get_item(snapshot.item.sku) or snapshot.item
    available = snapshot.sellable_available
    current = stock_state(available, item.low_stock_threshold)
    kind = crossing(item.stock_state, current)
    moved = current is not item.stock_state and await uow.inventory.change_stock_state(
        item.sku, item.stock_state, current
    )
    if moved and kind is not None:
        alert = Alert(
            id=uuid.uuid4(),
            kind=kind,
            sku=item.sku,
            available=available,
            threshold=item.low_stock_threshold,
            created_at=now,
        )
        await uow.alerts.add(alert)
        uow.emit(alert_raised(alert))
    for level in levels:
        uow.emit(stock_changed(snapshot, level, reason, channels, now))
    return snapshot
