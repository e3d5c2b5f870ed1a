"""What a sales channel's package gives Nexo: one descriptor, registered in one list.

A channel is one package, `adapters/channels/<kind>/`, whose `__init__` exposes `CHANNEL`, a
`ChannelDescriptor` made of:

- `kind`: its `ChannelKind`. The five kinds (shopify, amazon, ebay, mercadolibre, webstore)
  are domain words already, each with its order-time resolution (`ChannelKind`), title and
  image limits (`catalog/titles.py`, `channels/listing.py`), whether its listings need a
  category (`catalog/drafts.py`) and a place in the channels table's CHECK; a sixth kind adds
  itself there too.
- `listing_format`: its `ListingFormat`, the problems the channel would find in a
  `ListingDraft` and the native requests that create or replace the listing.
- `connect`: given the process's `ChannelServices` (one HTTP client, the rate limiter, the
  OAuth token store), a
  `PortFactory` that builds its `ChannelPort` from the channel, its configuration and its
  opened credentials, raising `ChannelMisconfigured` when they cannot work. None while the
  package has only its listing body: connecting such a channel says no adapter is installed.
- `needs_credentials`: False only for a port that calls nothing (the web store reads Nexo's
  own API); the others are never built without credentials.
- `kept_headers`: its webhook or notification verifier's part. The port checks a request
  (`verify_webhook`) and reads it (`identify_webhook`, `parse_webhook`); these (lower-case)
  header prefixes are stored with each inbound event, since the port reads them again when
  the event is processed.
- `setup_problem`: what in a channel's configuration stops updates reaching it although it
  connects (Shopify: no `locationId`), said in the channel's health.
- `order_mapper`: one order as the channel's order API or notifications carry it, as a
  `ChannelOrder` (`ChannelRejected` when it is not one).
- `capabilities`: the `Capability`s its port declares (the same set).
- `notification_queue`: for a channel whose events wait in a queue the hub reads (Amazon's
  SQS) rather than arrive as webhooks, given the process's services, a `QueueFactory`
  (see `channel_kit/queues.py`).

It is then registered by one entry in `CHANNELS` (adapters/container.py, with its name in the
import above the list), and its emulator lives in `sandbox/<kind>/` for tests and the demo.
Nothing else changes: the connector, the webhook verifiers, the listing formats that catalog
and relay use and the channels' health all read the registry built from that list, and the
import contracts already cover a new package under `adapters/channels/`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.channel_kit.feeds import FeedsInFlight, MemoryFeedsInFlight
from adapters.channel_kit.queues import QueueFactory
from adapters.channel_kit.tokens import TokenStore
from domain.channels.config import ChannelConfig
from domain.channels.listing import ListingFormat
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import Capability, ChannelOrder, ChannelPort
from domain.sync.rate_limits import RateLimiter

# (channel, configuration, opened credentials) -> the channel's port.
PortFactory = Callable[[Channel, ChannelConfig, Mapping[str, str]], ChannelPort]
OrderMapper = Callable[[Mapping[str, Any]], ChannelOrder]


@dataclass(frozen=True, slots=True)
class ChannelServices:
    """What the composition root lends every channel's connector: shared by the process."""

    http: httpx.AsyncClient
    rate_limiter: RateLimiter
    tokens: TokenStore  # OAuth access tokens, refreshed once for every process
    # Bulk documents a channel is processing, remembered across processes.
    feeds: FeedsInFlight = field(default_factory=MemoryFeedsInFlight)


@dataclass(frozen=True, slots=True)
class ChannelDescriptor:
    kind: ChannelKind
    listing_format: ListingFormat
    capabilities: frozenset[Capability] = frozenset()
    connect: Callable[[ChannelServices], PortFactory] | None = None
    needs_credentials: bool = True
    kept_headers: tuple[str, ...] = ()
    setup_problem: Callable[[ChannelConfig], str | None] | None = None
    order_mapper: OrderMapper | None = None
    notification_queue: Callable[[ChannelServices], QueueFactory] | None = None
