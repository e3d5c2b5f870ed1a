"""Connecting a MercadoLibre channel: its credentials and settings into a `MeliChannel`.

Credentials (sealed at rest): `client_id` and `client_secret` (the application's), `user_id`
(the seller's MercadoLibre id: the orders searched and the notifications accepted are its),
`refresh_token` (the seller's consent; MercadoLibre rotates it on each refresh, and the hub's
token store keeps the latest), optionally `calls_per_minute` (the account's rate limit, 1,500
by default), `up_stock_calls_per_minute` (the user products' stock resource's, 100) and
`api_url` to point the channel at a local sandbox. The listing rule's settings say the
listing model (`listingModel`: classic or user_products), the listing type and the shipping
mode (see `mapping`). The channel's missed pointers are its notification
queue (`missed_feeds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import httpx

from adapters.channel_kit.descriptor import PortFactory
from adapters.channel_kit.queues import NotificationQueue, QueueFactory
from adapters.channel_kit.tokens import TokenStore
from adapters.channels.mercadolibre.adapter import MeliChannel
from adapters.channels.mercadolibre.auth import token_refresh
from adapters.channels.mercadolibre.client import CALLS_PER_MINUTE, UP_STOCK_PER_MINUTE, MeliClient
from adapters.channels.mercadolibre.missed_feeds import MissedFeeds
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.policies import StockEditPolicy
from domain.channels.port import ChannelMisconfigured, ChannelPort
from domain.clock import Clock, utcnow
from domain.sync.rate_limits import RateLimiter

API_ORIGIN: Final = "https://api.mercadolibre.com"
NEEDED: Final = ("client_id", "client_secret", "refresh_token", "user_id")


def mercadolibre_factory(
    http: httpx.AsyncClient, limiter: RateLimiter, tokens: TokenStore, *, clock: Clock = utcnow
) -> PortFactory:
    def connect(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> ChannelPort:
        client = _client(http, limiter, tokens, channel, credentials, clock)
        return MeliChannel(
            client, seller_id=credentials["user_id"], application_id=credentials["client_id"],
            check_edits=config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS,
            clock=clock,
        )  # fmt: skip

    return connect


def missed_feeds_factory(
    http: httpx.AsyncClient, limiter: RateLimiter, tokens: TokenStore, *, clock: Clock = utcnow
) -> QueueFactory:
    """Every MercadoLibre channel's missed pointers, read as its notification queue."""

    def queue(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> NotificationQueue | None:
        client = _client(http, limiter, tokens, channel, credentials, clock)
        return MissedFeeds(client, seller_id=credentials["user_id"],
                           application_id=credentials["client_id"])  # fmt: skip

    return queue


def _client(
    http: httpx.AsyncClient,
    limiter: RateLimiter,
    tokens: TokenStore,
    channel: Channel,
    credentials: Mapping[str, str],
    clock: Clock,
) -> MeliClient:
    missing = [name for name in NEEDED if not credentials.get(name)]
    if missing:
        raise ChannelMisconfigured(
            f"{channel.name}: MercadoLibre needs the credentials {', '.join(missing)}"
        )
    per_minute = credentials.get("calls_per_minute") or str(CALLS_PER_MINUTE)
    up_per_minute = credentials.get("up_stock_calls_per_minute") or str(UP_STOCK_PER_MINUTE)
    for name, given in (("calls_per_minute", per_minute), ("up_stock_calls_per_minute",
                                                           up_per_minute)):  # fmt: skip
        if not given.isdigit() or int(given) < 1:
            raise ChannelMisconfigured(f"{channel.name}: {name} is a whole number")
    origin = (credentials.get("api_url") or API_ORIGIN).rstrip("/")
    refresh = token_refresh(
        http, origin=origin, client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        seller_token=credentials["refresh_token"], clock=clock,
    )  # fmt: skip
    seller = credentials["user_id"]
    return MeliClient(
        http=http, limiter=limiter, tokens=tokens, channel_id=channel.id, refresh=refresh,
        origin=origin, account=f"{credentials['client_id']}:{seller}",
        calls_per_minute=int(per_minute), up_stock_calls_per_minute=int(up_per_minute),
    )  # fmt: skip
