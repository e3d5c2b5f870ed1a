"""Shopify: the Admin GraphQL API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channels.shopify import webhooks
from adapters.channels.shopify.adapter import CAPABILITIES
from adapters.channels.shopify.connect import setup_problem, shopify_factory
from adapters.channels.shopify.mapping import ShopifyListingFormat
from domain.channels.model import ChannelKind
from domain.channels.port import ChannelOrder


def _connect(services: ChannelServices) -> PortFactory:
    return shopify_factory(services.http, services.rate_limiter)


def _order(payload: Mapping[str, Any]) -> ChannelOrder:
    """An order as Shopify's order webhooks carry it (the REST Order resource)."""
    return webhooks.rest_order(payload, "order")


CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.SHOPIFY,
    listing_format=ShopifyListingFormat(),
    capabilities=CAPABILITIES,
    connect=_connect,
    kept_headers=("x-shopify-",),
    setup_problem=setup_problem,
    order_mapper=_order,
)
