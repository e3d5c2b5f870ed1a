"""The fakes' storage: one dict (or list) per table, of frozen rows.

Rows are immutable, so copying the containers copies the state: a unit of work works on a
copy and hands it back on commit. Nothing here is a rule; the repositories hold those.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime

from domain.access import ApiKey
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.inventory.alerts import Alert
from domain.inventory.idempotency import Operation
from domain.inventory.model import InventoryItem, Location, Movement, Reservation, StockLevel
from domain.orders.model import Conflict, Order, Shipment, Transition
from domain.sync.model import OutboxEntry, SyncCall


class ConstraintViolation(Exception):
    """What the database would refuse (a unique key, a foreign key, a CHECK): a use case
    reaching it forgot to check first, as it would with the SQL repositories."""


class UniqueViolation(ConstraintViolation):
    pass


@dataclass(frozen=True, slots=True)
class DueRow:
    order_id: uuid.UUID
    due_since: datetime
    lease: uuid.UUID
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    entry: OutboxEntry
    claimed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PullCursor:
    cursor: str | None
    updated_at: datetime
    pulled_through: datetime | None = None


@dataclass
class Tables:
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    locations: dict[uuid.UUID, Location] = field(default_factory=dict)
    items: dict[str, InventoryItem] = field(default_factory=dict)
    levels: dict[tuple[str, uuid.UUID], StockLevel] = field(default_factory=dict)
    bins: dict[tuple[str, uuid.UUID], str] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)
    reservations: dict[uuid.UUID, Reservation] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    channels: dict[uuid.UUID, Channel] = field(default_factory=dict)
    sku_rules: dict[tuple[uuid.UUID, str], AvailabilityRule] = field(default_factory=dict)
    channel_configs: dict[uuid.UUID, ChannelConfig] = field(default_factory=dict)
    credentials: dict[uuid.UUID, bytes] = field(default_factory=dict)
    alerts: dict[uuid.UUID, Alert] = field(default_factory=dict)
    orders: dict[uuid.UUID, Order] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    alerted_conflicts: set[uuid.UUID] = field(default_factory=set)
    shipments: dict[uuid.UUID, Shipment] = field(default_factory=dict)
    pull_cursors: dict[uuid.UUID, PullCursor] = field(default_factory=dict)
    due: dict[uuid.UUID, DueRow] = field(default_factory=dict)
    outbox: dict[uuid.UUID, OutboxRow] = field(default_factory=dict)
    sync_log: list[SyncCall] = field(default_factory=list)

    def copy(self) -> Tables:
        """An independent copy: the containers are new, the (immutable) rows shared."""
        return Tables(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})


def position(at: datetime, ident: uuid.UUID) -> str:
    """The fakes' keyset cursor: opaque to callers, as the SQL repositories' are."""
    return f"{at.isoformat()}|{ident}"


def read_position(cursor: str) -> tuple[datetime, uuid.UUID]:
    at, ident = cursor.split("|")
    return datetime.fromisoformat(at), uuid.UUID(ident)
