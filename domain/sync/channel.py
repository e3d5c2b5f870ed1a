"""The channel port: the one interface every marketplace adapter implements.

The sync engine speaks only this. It hands an adapter the intended state (quantities,
prices, listing content) and gets back, per key, what the channel confirmed — or a typed
failure that says whether to retry (`ChannelUnavailable`, `ChannelThrottled`) or not
(`ChannelRejected`: the channel's own validation message, shown on the listing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.catalog.listing import ChannelRequest, ListingDraft
from domain.catalog.money import Money


class ChannelFailure(Exception):
    """A call to a channel did not do what was asked."""

    retryable: bool = True

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ChannelUnavailable(ChannelFailure):
    """5xx, timeouts, garbage answers: try again later."""


class ChannelThrottled(ChannelFailure):
    """The channel's rate limit: try again after `retry_after` seconds (when it said)."""


class ChannelRejected(ChannelFailure):
    """The channel refused the content (validation): retrying the same thing cannot help."""

    retryable = False


class ChannelMisconfigured(ChannelFailure):
    """No credentials, bad credentials (401/403), no location: fix the channel, then retry."""

    retryable = False


@dataclass(frozen=True, slots=True)
class ListingRefs:
    """The channel's ids for a listing and its SKUs, as the channel gave them."""

    listing_id: str | None = None
    sku_ids: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # sku -> {name: id}


@dataclass(frozen=True, slots=True)
class QuantityUpdate:
    sku: str
    quantity: int
    refs: Mapping[str, str] = field(default_factory=dict)  # the SKU's channel ids
    previous: int | None = None  # what the channel last confirmed (compare-and-set)


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    sku: str
    price: Money
    compare_at: Money | None
    refs: Mapping[str, str] = field(default_factory=dict)
    listing_refs: Mapping[str, str] = field(default_factory=dict)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"  # this key only; the others in the batch may have succeeded
    STALE = "stale"  # compare-and-set lost: the channel's value moved; read it and retry


@dataclass(frozen=True, slots=True)
class KeyResult:
    sku: str
    outcome: Outcome
    message: str | None = None
    confirmed_quantity: int | None = None
    confirmed_price: Money | None = None


@dataclass(frozen=True, slots=True)
class ChannelLevel:
    """What the channel shows for a SKU right now (for reconciliation)."""

    sku: str
    quantity: int | None
    price: Money | None


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """How much one call may carry."""

    quantities_per_call: int
    prices_per_call: int


class ChannelPort(Protocol):
    """One connected sales account, as the sync engine uses it."""

    @property
    def limits(self) -> ChannelLimits: ...

    async def upsert_listing(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        """Create or replace the listing; returns the channel's ids for it and its SKUs."""
        ...

    async def end_listing(self, refs: ListingRefs) -> None: ...

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        """Set absolute quantities; at most `limits.quantities_per_call` per call."""
        ...

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]: ...

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        """The channel's current quantity and price of each SKU (by its channel ids)."""
        ...

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders updated since `cursor` (None: the channel's default window), oldest first."""
        ...

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        """Tell the channel an order (or some of its lines) shipped; returns its shipment id."""
        ...

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        """Cancel order lines on the channel: the hub will not ship them. Safe to repeat: a
        line already cancelled there is left as it is."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether an inbound request really comes from this channel (signature check)."""
        ...

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        """The event's id, topic and kind as a verified request's headers name them, without
        reading its body; None when they do not (the body is then read to tell)."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        """A verified inbound request as an event; raises ChannelRejected on a bad payload."""
        ...


@dataclass(frozen=True, slots=True)
class InboundStockEdit:
    """A channel reports that someone changed a SKU's stock on its side."""

    event_id: str
    sku_refs: Mapping[str, str]  # the channel's ids of the SKU (e.g. inventory item id)
    quantity: int
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelOrderLine:
    line_id: str
    sku: str | None
    quantity: int
    unit_price: Money | None


@dataclass(frozen=True, slots=True)
class ChannelFee:
    """What the channel charges the merchant for an order, as the channel reports it."""

    kind: str  # e.g. "marketplace_fee", "sale_fee", "payment_processing"
    amount: Money
    line_id: str | None = None  # the channel's line it is for, when it is for one


@dataclass(frozen=True, slots=True)
class ChannelOrder:
    """An order as a channel reports it, before the hub maps it to its order book."""

    external_id: str
    number: str | None
    updated_at: datetime
    placed_at: datetime | None
    status: str
    lines: tuple[ChannelOrderLine, ...]
    customer: Mapping[str, str | None] = field(default_factory=dict)
    raw: Mapping[str, object] = field(default_factory=dict)
    fees: tuple[ChannelFee, ...] = ()  # empty: none known (yet)


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[ChannelOrder, ...]
    cursor: str | None  # pass back to continue; None when nothing follows yet


@dataclass(frozen=True, slots=True)
class ShipmentNotice:
    order_refs: Mapping[str, str]  # the channel's ids of the order (and its fulfilment orders)
    lines: tuple[tuple[str, int], ...]  # (channel line id, quantity)
    carrier: str
    tracking_number: str
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class LineCancelNotice:
    """Order lines the hub cancelled (e.g. they lost a contested last unit)."""

    order_refs: Mapping[str, str]  # the channel's ids of the order
    lines: tuple[str, ...]  # the channel's ids of the lines: what is left of each is cancelled
    reason: str


class InboundKind(StrEnum):
    ORDER = "order"
    STOCK_EDIT = "stock_edit"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class InboundIdentity:
    """What an inbound event is, known on arrival: enough to store it once."""

    event_id: str  # the channel's id of the event: a redelivery carries the same one
    topic: str
    kind: InboundKind | None  # None: not known until the payload is read


@dataclass(frozen=True, slots=True)
class InboundEvent:
    event_id: str  # the channel's id of the event: a redelivery carries the same one
    kind: InboundKind
    topic: str
    occurred_at: datetime | None
    order: ChannelOrder | None = None
    stock_edit: InboundStockEdit | None = None
