"""Stock alerts: raised once per crossing of a threshold, not on every change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.inventory.model import StockState, stock_state

__all__ = ["Alert", "AlertKind", "crossing", "stock_state"]


class AlertKind(StrEnum):
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    BACK_IN_STOCK = "BACK_IN_STOCK"
    SYNC_FAILED = "SYNC_FAILED"  # a channel update was dead-lettered after its retries
    INBOUND_FAILED = "INBOUND_FAILED"  # a channel's event could not be taken; see the inbox
    ORDER_CONFLICT = "ORDER_CONFLICT"  # two orders wanted the last unit; see the order
    CONFLICT_WAITING = "CONFLICT_WAITING"  # a manual conflict waits for a person too long
    HANDOFF_FAILED = "HANDOFF_FAILED"  # a fulfilment request never reached its partner
    # A partner tried to ship a request that was cancelled: the goods may have left anyway.
    SHIPPED_CANCELLED = "SHIPPED_CANCELLED"


@dataclass(frozen=True, slots=True)
class Alert:
    id: uuid.UUID
    kind: AlertKind
    sku: str | None  # None: about no SKU (an inbound event that could not even be read)
    available: int
    threshold: int | None
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    channel_id: uuid.UUID | None = None
    message: str | None = None


def crossing(previous: StockState, current: StockState) -> AlertKind | None:
    """The alert a change of state raises, if any."""
    if previous is current:
        return None
    if current is StockState.OUT:
        return AlertKind.OUT_OF_STOCK
    if previous is StockState.OUT:
        return AlertKind.BACK_IN_STOCK
    if current is StockState.LOW:
        return AlertKind.LOW_STOCK
    return None  # low -> in stock: recovered, nothing to act on
