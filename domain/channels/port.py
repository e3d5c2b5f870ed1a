"""The channel port: the one interface every marketplace adapter implements.

The sync engine speaks only this. It hands an adapter the intended state (quantities,
prices, listing content) and gets back, per key, what the channel confirmed — or a typed
failure that says whether to retry (`ChannelUnavailable`, `ChannelThrottled`) or not
(`ChannelRejected`: the channel's own validation message, shown on the listing). A port
declares its `Capability`s; a `ChannelConnector` builds a channel's port from its
configuration and sealed credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from domain.channels.config import ChannelConfig
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.model import Channel
from domain.money import Money


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
    # Not sent: the channel's own budget for this key is spent (eBay revises a listing at most
    # 250 times a day) until `retry_after`; the key's latest figure goes out then.
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class KeyResult:
    sku: str
    outcome: Outcome
    message: str | None = None
    confirmed_quantity: int | None = None
    confirmed_price: Money | None = None
    retry_after: float | None = None  # DEFERRED: seconds until the key may be sent


@dataclass(frozen=True, slots=True)
class ChannelLevel:
    """What the channel shows for a SKU right now (for reconciliation)."""

    sku: str
    quantity: int | None
    price: Money | None


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """How much one call may carry, and how many calls a drain may have out at once (a
    channel that answers a bulk call only after processing it, like Amazon's feeds, takes the
    next batch while it processes the last)."""

    quantities_per_call: int
    prices_per_call: int
    calls_in_flight: int = 1


class Capability(StrEnum):
    """What a channel's port does with the channel. A port declares the ones it has; the
    others' methods are there and do nothing the channel would see."""

    LISTINGS = "listings"  # create, replace and end listings
    QUANTITIES = "quantities"  # set stock figures, and read them back for reconciliation
    PRICES = "prices"  # set prices
    ORDERS_PUSH = "orders_push"  # the channel sends its orders (and stock edits) as notifications
    ORDERS_PULL = "orders_pull"  # orders are read by cursor
    FULFILMENT = "fulfilment"  # tell the channel what shipped, with tracking
    CANCELLATION = "cancellation"  # cancel order lines on the channel
    CHANNEL_MANAGED_STOCK = "channel_managed_stock"  # it holds and ships stock (FBA): read only


class ChannelPort(Protocol):
    """One connected sales account, as the sync engine uses it."""

    @property
    def limits(self) -> ChannelLimits: ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this port does with its channel (the channel kind's descriptor says the same)."""
        ...

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


@runtime_checkable
class ManagedStock(Protocol):
    """A port whose channel holds and ships stock of its own (Amazon's FBA): what it holds,
    read only, for the channel's `channel_managed` location."""

    async def read_managed_stock(self) -> dict[str, int]:
        """Units the channel holds for each SKU: those it can ship and those it keeps for
        its buyers' open orders (which the hub holds as reservations)."""
        ...


# Days before today a channel's views are read again, unless its port says otherwise.
DEFAULT_VIEWS_LOOK_BACK_DAYS = 2


@runtime_checkable
class ListingViews(Protocol):
    """A port whose channel reports how often buyers viewed its listings per day (eBay's
    Analytics traffic report: LISTING_VIEWS_TOTAL; Shopify's ShopifyQL: products.view_sessions,
    sessions that viewed the product page; MercadoLibre's Visits resource: an item's visits,
    unique per day; Amazon's GET_SALES_AND_TRAFFIC_REPORT: pageViews of each SKU's own detail
    page).

    `views_look_back_days`: how many days before today the channel may still change a day's
    figure (it counts views late); the hub reads those days again each time it reads today.
    """

    views_look_back_days: int

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        """Views on `day` of the listing showing each SKU (by the SKU's channel ids). eBay,
        Shopify and MercadoLibre (classic items) count per listing: a listing of several SKUs
        gives each the same figure; Amazon gives each SKU (child ASIN) its own page's."""
        ...


@runtime_checkable
class SigningKeys(Protocol):
    """A port whose channel signs with keys it publishes (eBay: ECDSA, the key at
    `/public_key/{kid}`): the key a request names is fetched before `verify_webhook` runs."""

    async def fetch_signing_key(self, headers: Mapping[str, str]) -> None:
        """Have the key the request's signature names at hand (cached); on failure it stays
        missing and `verify_webhook` refuses the request."""
        ...


@runtime_checkable
class SignedSendTime(Protocol):
    """A port whose channel signs the time it sent each delivery, stamped anew on every
    attempt (eBay's `notification.publishDate`): a delivery sent outside the replay window
    is refused (see `domain.channels.replay`), so one captured cannot be taken in later.

    Only a time under the signature, and one a resend renews, qualifies: an unsigned
    header anyone can rewrite, and an event's own time a resend keeps, would refuse either
    nothing or the channel's own retries."""

    def sent_at(self, headers: Mapping[str, str], body: bytes) -> datetime | None:
        """When the channel sent this (verified) delivery; None when it names no readable
        time, which the channel always does: such a delivery is refused."""
        ...


@runtime_checkable
class EndpointChallenge(Protocol):
    """A port whose channel checks the hub's endpoint before sending to it (eBay's
    `GET ?challenge_code=`)."""

    def answer_challenge(self, query: Mapping[str, str], endpoint: str) -> Mapping[str, str] | None:
        """The JSON answer to the channel's challenge at `endpoint` (the URL it was given);
        None when the request is no challenge of this channel."""
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
    discount: Money | None = None  # taken off the line's price (all its units), when known


@dataclass(frozen=True, slots=True)
class ChannelFee:
    """What the channel charges the merchant for an order, as the channel reports it."""

    kind: str  # e.g. "marketplace_fee", "sale_fee", "payment_processing"
    amount: Money
    line_id: str | None = None  # the channel's line it is for, when it is for one


@dataclass(frozen=True, slots=True)
class ChannelParcel:
    """A parcel the channel itself shipped (it labels and tracks it, e.g. MercadoLibre's ME2):
    the hub records the shipment from it, and the delivery when the channel saw it arrive."""

    carrier: str
    tracking_number: str
    delivered: bool = False


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
    shipped_by_channel: ChannelParcel | None = None  # None: the merchant ships it (or not yet)


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
    # Every line of the order cancelled and none of it shipped: a channel that cancels whole
    # orders cancels it (its customer hears the order was cancelled); others cancel its lines.
    whole_order: bool = False


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


class ChannelConnector(Protocol):
    """Builds the channel port of one channel from its configuration and sealed credentials."""

    def connect(
        self, channel: Channel, config: ChannelConfig, sealed_credentials: bytes | None
    ) -> ChannelPort:
        """Raises ChannelMisconfigured when the channel cannot be reached as configured."""
        ...

    def setup_problem(self, channel: Channel, config: ChannelConfig) -> str | None:
        """What in the configuration stops updates reaching a channel that connects (its
        kind's own requirement, e.g. the Shopify location stock is set at); None if nothing."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookVerifier:
    """A channel's port as built from its sealed credentials, to check its webhooks with."""

    channel_id: uuid.UUID
    port: ChannelPort
    sealed: bytes  # the credentials the port was built from, as stored (sealed)
    kept_headers: tuple[str, ...] = ()  # prefixes of the (lower-case) headers kept with an event

    def kept(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The headers stored with an event: the channel's own, read again to process it."""
        return {
            name: value for name, value in headers.items() if name.startswith(self.kept_headers)
        }


class WebhookVerifiers(Protocol):
    """Each channel's webhook verifier, remembered by the process that built it."""

    async def get(self, channel_id: uuid.UUID, *, fresh: bool = False) -> WebhookVerifier | str:
        """The channel's verifier (built anew from storage when `fresh`), or why it has none:
        unknown channel, no credentials, credentials that cannot be opened."""
        ...
