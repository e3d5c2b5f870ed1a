"""The channel under test: what a marketplace gives the contract suite, and nothing more.

The suite drives the hub as its users and workers do (the GraphQL API, the worker jobs) and
never names a marketplace. What only a marketplace knows sits behind `ChannelUnderTest`, one
implementation per kind, listed in `KINDS` (see `tests/contract/kinds.py`):

- starting its sandbox and pointing the hub's adapter for the kind at it (its `Start`);
- what the hub's channel needs to reach it: `credentials` and listing rule `settings`;
- acting on the channel as its customers and its merchant do: `sell`, `cancel`, `edit` (with the
  delivery of the notifications the channel sends about it: once, lost, or twice);
- delivering what the channel has to say later (`deliver_notifications`);
- reading what the channel shows, in the channel's own records (`item`, `order`);
- making the channel's API misbehave on the next calls (`inject`), and behave again (`recover`).

A kind passes the suite unchanged; a kind needing a change in the suite has found either a gap
in the suite (change it for every kind) or a gap in its adapter or sandbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Protocol

import httpx

from adapters.channel_kit.connector import ChannelConnector
from adapters.channel_kit.tokens import TokenStore


class Delivery(Enum):
    """What becomes of the notifications (webhooks, pushed messages) a channel sends about one
    thing that happened on it."""

    ONCE = "once"
    LOST = "lost"  # never reach the hub: only a pull or a reconciliation finds the change
    TWICE = "twice"  # each reaches the hub twice, as the same event (the channel's event id)


class Fault(StrEnum):
    """How the channel's API misbehaves on a call. A kind whose API has one answer for two of
    these (a single "429", say) gives that answer for both."""

    THROTTLED = "throttled"  # the rate limit, as the API says it in its usual answers
    TOO_MANY_REQUESTS = "429"  # the rate limit as HTTP 429
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"  # from the channel's edge, with a body that is not the API's
    UNAVAILABLE = "503"
    TIMEOUT = "timeout"  # no answer before the hub's client gives up; nothing is carried out
    GARBAGE = "garbage"  # an unreadable answer to a call the channel carried out


@dataclass(frozen=True)
class ShownItem:
    """A SKU as the channel shows it to its buyers."""

    sku: str
    quantity: int | None  # what the buyers can buy; None: the channel does not say
    price: Decimal | None  # in the channel's currency
    listing: str  # the channel's id of what the SKU is listed under: variants of one product
    #               share it (one product, one parent, one group, one family…)
    title: str


@dataclass(frozen=True)
class ShownLine:
    sku: str
    ordered: int
    cancelled: int
    shipped: int


@dataclass(frozen=True)
class ShownOrder:
    """An order as the channel keeps it."""

    lines: Mapping[str, ShownLine]  # by SKU
    tracking_numbers: tuple[str, ...] = ()  # of its shipments, in the order they were made
    cancelled: bool = False


@dataclass(frozen=True)
class HubSide:
    """What a channel under test may use of the hub: how to reach it, where its adapter is
    installed, and the suite's clock."""

    http: httpx.AsyncClient  # the hub's HTTP face: notifications are POSTed through it
    connector: ChannelConnector  # register the kind's adapter here, pointed at the sandbox
    # The suite's time, in seconds: the adapter's rate limiter reads it, so that skipping time
    # (instead of sleeping) ends a pause the channel asked for.
    clock: Callable[[], float]
    # The hub's OAuth token store (on the suite's clock): a kind's port factory is given it.
    tokens: TokenStore
    # The hub's worker job reading the queues channels put their notifications in (a kind whose
    # notifications the hub reads from a queue delivers them by running it); returns how many
    # new events it stored.
    read_queues: Callable[[], Awaitable[int]] = field(default=lambda: _nothing())


async def _nothing() -> int:
    return 0


class ChannelUnderTest(Protocol):
    kind: str  # the API's ChannelKind: "SHOPIFY", "AMAZON"…
    currency: str  # the channel's currency (the catalog is priced in it)
    credentials: Mapping[str, str]  # setChannelCredentials
    settings: Mapping[str, str]  # setListingRule's channel-specific settings
    # The channel's category the catalog is listed under (setListingRule's categoryMap): a
    # browse node, a category id; None for a kind whose listings need none.
    category: str | None

    async def subscribe(self, url: str) -> None:
        """Send the channel's notifications to `url`, the hub's endpoint for the channel (a kind
        whose notifications reach the hub another way, a queue the hub reads, uses that)."""
        ...

    async def sell(self, lines: list[tuple[str, int]], delivery: Delivery) -> str:
        """A buyer orders `lines` (SKU, quantity) on the channel, which takes the order as its
        own stock allows; returns the channel's order id (the hub's externalId). The sale's
        notifications are delivered (or not) as `delivery` says before this returns."""
        ...

    async def cancel(self, order_id: str, delivery: Delivery) -> None:
        """The order is cancelled on the channel before it ships; what it held there is
        available again."""
        ...

    async def edit(
        self,
        sku: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        delivery: Delivery = Delivery.LOST,
    ) -> None:
        """The merchant changes the SKU's quantity or price in the channel's own admin."""
        ...

    async def deliver_notifications(self) -> int:
        """Deliver what the channel has to tell the hub now (the hub's own changes reported
        back, a shipment it confirmed…); returns how many deliveries were made."""
        ...

    async def item(self, sku: str) -> ShownItem | None:
        """What the channel shows for the SKU; None when it does not list it. A SKU the
        channel lists twice (a listing published twice) fails the test (AssertionError)."""
        ...

    async def order(self, order_id: str) -> ShownOrder:
        """What the channel keeps of its order `order_id` (as `sell` returned it)."""
        ...

    async def inject(self, fault: Fault, calls: int = 1) -> None:
        """The next `calls` calls the hub makes to the channel's API meet `fault`."""
        ...

    async def recover(self) -> None:
        """The channel's API answers normally again: injected faults not yet met are dropped."""
        ...


# How each kind starts: its sandbox up and the hub's adapter for the kind pointed at it, for
# as long as the context lasts.
Start = Callable[[HubSide], AbstractAsyncContextManager[ChannelUnderTest]]
