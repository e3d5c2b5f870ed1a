"""Connecting an eBay channel: its credentials and settings into an `EbayChannel`.

Credentials (sealed at rest): `client_id` and `client_secret` (the application's keys),
`refresh_token` (the seller's consent), `verification_token` (given to eBay with the
notification endpoint; answers its challenge), optionally `notification_endpoint` (the URL
exactly as eBay was given it, when a proxy shows the hub another one) and `api_url` to point
the channel at a local sandbox. The listing rule's settings name the marketplace, the
merchant location and the three business policies (see `mapping`), and optionally the
`contentLanguage` of the listings (en-US by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import httpx

from adapters.channel_kit.descriptor import PortFactory
from adapters.channel_kit.tokens import TokenStore
from adapters.channels.ebay.adapter import EbayChannel
from adapters.channels.ebay.auth import token_refresh
from adapters.channels.ebay.client import EbayClient
from adapters.channels.ebay.mapping import REQUIRED_SETTINGS
from adapters.channels.ebay.revisions import Revisions
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.policies import StockEditPolicy
from domain.channels.port import ChannelMisconfigured, ChannelPort
from domain.clock import Clock, utcnow
from domain.sync.rate_limits import RateLimiter

API_ORIGIN: Final = "https://api.ebay.com"
NEEDED: Final = ("client_id", "client_secret", "refresh_token")


def ebay_factory(
    http: httpx.AsyncClient, limiter: RateLimiter, tokens: TokenStore, *, clock: Clock = utcnow
) -> PortFactory:
    def connect(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> ChannelPort:
        missing = [name for name in NEEDED if not credentials.get(name)]
        if missing:
            raise ChannelMisconfigured(
                f"{channel.name}: eBay needs the credentials {', '.join(missing)}"
            )
        origin = (credentials.get("api_url") or API_ORIGIN).rstrip("/")
        refresh = token_refresh(
            http, origin=origin, client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            seller_token=credentials["refresh_token"], clock=clock,
        )  # fmt: skip
        settings = config.listing_rule.settings
        client = EbayClient(
            http=http, limiter=limiter, tokens=tokens, channel_id=channel.id, refresh=refresh,
            origin=origin, app_key=credentials["client_id"],
            language=settings.get("contentLanguage") or "en-US",
        )  # fmt: skip
        return EbayChannel(
            client,
            Revisions(limiter, f"{credentials['client_id']}:{channel.id}"),
            verification_token=credentials.get("verification_token", ""),
            notification_endpoint=credentials.get("notification_endpoint") or None,
            check_edits=config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS,
        )

    return connect


def setup_problem(config: ChannelConfig) -> str | None:
    """Listings need the marketplace, the location and the policies: say which are missing."""
    settings = config.listing_rule.settings
    missing = [name for name in REQUIRED_SETTINGS if not settings.get(name, "").strip()]
    if missing:
        return f"set the eBay {', '.join(missing)} in the listing rule's settings"
    return None
