"""After levels change inside a unit of work: raise alerts on crossings, queue stock events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from domain.channels.model import ChannelForSku
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.inventory.alerts import Alert, crossing
from domain.inventory.arrivals import stock_arrived
from domain.inventory.events import alert_raised, stock_changed
from domain.inventory.model import LevelChange, MovementReason, SkuSnapshot, stock_state
from domain.ports import UnitOfWork


async def levels_changed(
    uow: UnitOfWork,
    snapshot: SkuSnapshot,
    changes: Sequence[LevelChange],
    reason: MovementReason | Sequence[MovementReason],
    channels: Sequence[ChannelForSku],
    now: datetime,
    *,
    dirty: list[Dirty] | None = None,
    raised: list[Alert] | None = None,
) -> SkuSnapshot:
    """Fold the changes into the snapshot, alert on a threshold crossing, emit events, and
    have backorders filled from stock that arrived (`arrivals`).

    The SKU's sellable total before and after come from the same atomic update that moved
    it, so concurrent changes (even at different locations) each see a distinct step and a
    crossing is alerted exactly once. Given `dirty`, the channels to tell are added to it
    (the caller marks a batch's in one statement) instead of marked here; given `raised`,
    alerts are added to it (the caller stores a batch's in one statement). `reason`: the
    changes', or each change's (a batch of receipts and counts moves each level once).
    """
    reasons = [reason] * len(changes) if isinstance(reason, MovementReason) else list(reason)
    for change in changes:
        snapshot = snapshot.with_level(change.level)
    moved = [c for c in changes if c.sku_available_after is not None]
    if moved:
        before, after = moved[0].sku_available_before, moved[-1].sku_available_after
        assert before is not None
        assert after is not None
        threshold = snapshot.item.low_stock_threshold
        kind = crossing(stock_state(before, threshold), stock_state(after, threshold))
        if kind is not None:
            alert = Alert(
                id=uuid.uuid4(),
                kind=kind,
                sku=snapshot.item.sku,
                available=after,
                threshold=threshold,
                created_at=now,
            )
            if raised is not None:
                raised.append(alert)
            else:
                await uow.alerts.add(alert)
            uow.emit(alert_raised(alert))
    for change, why in zip(changes, reasons, strict=True):
        uow.emit(stock_changed(snapshot, change.level, why, channels, now))
    stock_arrived(uow, snapshot.item.sku, changes, reasons)
    if dirty is not None:
        dirty.extend(stock_dirty(changes, channels))
    else:
        await mark_dirty(uow, stock_dirty(changes, channels), now)
    return snapshot


def stock_dirty(changes: Iterable[LevelChange], channels: Sequence[ChannelForSku]) -> list[Dirty]:
    """Channels fed by a changed level must hear the SKU's new quantity."""
    found: dict[tuple[object, str], Dirty] = {}
    for change in changes:
        for entry in channels:
            channel = entry.channel
            if change.level.location_id in channel.location_ids:
                key = (channel.id, change.level.sku)
                found.setdefault(key, Dirty(channel.id, OutboxKind.QUANTITY, change.level.sku))
    return list(found.values())
