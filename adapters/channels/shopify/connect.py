"""Connecting a Shopify channel: its credentials and settings into a `ShopifyChannel`.

Credentials (sealed at rest): `shop_domain` (`{shop}.myshopify.com`), `access_token`,
`api_secret` (signs webhooks), and `api_url` only to point the shop at a local sandbox.
The channel's listing rule settings name the Shopify `locationId` whose stock Nexo sets.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.channel_kit.descriptor import PortFactory
from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.shopify.client import ShopifyClient
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.port import ChannelMisconfigured, ChannelPort
from domain.sync.rate_limits import RateLimiter


def shopify_factory(http: httpx.AsyncClient, limiter: RateLimiter) -> PortFactory:
    def connect(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> ChannelPort:
        shop, token = credentials.get("shop_domain"), credentials.get("access_token")
        if not shop or not token:
            raise ChannelMisconfigured(
                f"{channel.name}: Shopify needs shop_domain and access_token credentials"
            )
        # Without a location the channel still verifies webhooks and takes orders; only
        # setting stock needs it (the adapter refuses that, and the channel's status says so).
        location = config.listing_rule.settings.get("locationId", "")
        client = ShopifyClient(
            shop, token, http=http, limiter=limiter, base_url=credentials.get("api_url")
        )
        return ShopifyChannel(
            client, location_id=location, webhook_secret=credentials.get("api_secret", "")
        )

    return connect


def setup_problem(config: ChannelConfig) -> str | None:
    """Stock is set at one Shopify location: without it no figure can be sent."""
    if not config.listing_rule.settings.get("locationId"):
        return "set the Shopify locationId in the listing rule's settings: stock is set there"
    return None
