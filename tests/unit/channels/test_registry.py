"""The channel registry: every kind registered once, and the connector, verifiers and health
reading each kind's descriptor rather than knowing the kinds themselves."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.fernet import Fernet

from adapters.channel_kit.connector import ChannelConnector
from adapters.channel_kit.descriptor import ChannelServices
from adapters.channel_kit.registry import ChannelRegistry
from adapters.channels import webstore
from adapters.container import CHANNELS
from adapters.ratelimit import MemoryRateLimiter
from adapters.secrets import FernetSecretBox
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.listing import ListingRule
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import ChannelMisconfigured
from domain.money import Money
from tests.fakes.tokens import NoTokens

BOX = FernetSecretBox(Fernet.generate_key())
SHOP_LOCATION = "gid://shopify/Location/1"
SHOP_CREDENTIALS = {"shop_domain": "nexo.myshopify.com", "access_token": "shpat_x"}
AMAZON_CREDENTIALS = {"client_id": "amzn1.application", "client_secret": "s", "refresh_token": "r"}


def channel(kind: ChannelKind) -> Channel:
    return Channel(
        id=uuid.uuid4(),
        name=f"My {kind.value}",
        kind=kind,
        currency="USD",
        priority=1,
        location_ids=(uuid.uuid4(),),
        rule=AvailabilityRule(),
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


def configured(shop: Channel, **settings: str) -> ChannelConfig:
    return ChannelConfig(shop.id, listing_rule=ListingRule(settings=settings))


@pytest.fixture
async def connector() -> AsyncIterator[ChannelConnector]:
    async with httpx.AsyncClient() as http:
        yield ChannelConnector(
            lambda: BOX, CHANNELS, ChannelServices(http, MemoryRateLimiter(), NoTokens())
        )


def test_every_channel_kind_is_registered_once() -> None:
    kinds = [descriptor.kind for descriptor in CHANNELS]
    assert sorted(kinds) == sorted(ChannelKind)
    assert set(CHANNELS.listing_formats) == {kind.value for kind in ChannelKind}


def test_a_kind_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="webstore is registered twice"):
        ChannelRegistry([webstore.CHANNEL, webstore.CHANNEL])


async def test_each_port_declares_the_capabilities_of_its_descriptor(
    connector: ChannelConnector,
) -> None:
    connectable = [d for d in CHANNELS if d.connect is not None]
    assert {d.kind for d in connectable} == {
        ChannelKind.SHOPIFY, ChannelKind.WEBSTORE, ChannelKind.AMAZON, ChannelKind.EBAY,
        ChannelKind.MERCADOLIBRE,
    }  # fmt: skip
    ebay = {"client_id": "app", "client_secret": "secret", "refresh_token": "v^1.1#r",
            "user_id": "123456789"}  # fmt: skip
    sealed = BOX.seal(json.dumps({**SHOP_CREDENTIALS, **AMAZON_CREDENTIALS, **ebay}).encode())
    for descriptor in connectable:
        shop = channel(descriptor.kind)
        port = connector.connect(shop, configured(shop, locationId=SHOP_LOCATION), sealed)
        assert port.capabilities == descriptor.capabilities
        assert port.capabilities  # a port that connects does something


async def test_a_mercadolibre_channel_without_its_seller_does_not_connect(
    connector: ChannelConnector,
) -> None:
    market = channel(ChannelKind.MERCADOLIBRE)
    sealed = BOX.seal(b'{"client_id": "1", "client_secret": "s", "refresh_token": "TG-1"}')
    with pytest.raises(ChannelMisconfigured, match="MercadoLibre needs the credentials user_id"):
        connector.connect(market, configured(market), sealed)


async def test_only_the_web_store_connects_without_credentials(
    connector: ChannelConnector,
) -> None:
    store = channel(ChannelKind.WEBSTORE)
    assert connector.connect(store, configured(store), None).capabilities
    shop = channel(ChannelKind.SHOPIFY)
    with pytest.raises(ChannelMisconfigured, match="My shopify has no credentials"):
        connector.connect(shop, configured(shop, locationId=SHOP_LOCATION), None)


async def test_a_shop_without_its_location_connects_but_has_a_setup_problem(
    connector: ChannelConnector,
) -> None:
    shop = channel(ChannelKind.SHOPIFY)
    sealed = BOX.seal(json.dumps(SHOP_CREDENTIALS).encode())
    connector.connect(shop, configured(shop), sealed)  # webhooks and orders need no location

    problem = connector.setup_problem(shop, configured(shop))

    assert problem is not None
    assert "locationId" in problem
    assert connector.setup_problem(shop, configured(shop, locationId=SHOP_LOCATION)) is None
    store = channel(ChannelKind.WEBSTORE)
    assert connector.setup_problem(store, configured(store)) is None


async def test_the_verifier_keeps_a_kinds_own_headers_only(connector: ChannelConnector) -> None:
    assert connector.kept_headers("shopify") == ("x-shopify-",)
    assert connector.kept_headers("webstore") == ()
    assert connector.kept_headers("amazon") == ("x-amz-sqs-message-id",)
    assert connector.kept_headers("ebay") == ("x-ebay-",)


def test_a_shopify_order_notification_maps_through_the_descriptor() -> None:
    mapper = CHANNELS.get("shopify")
    assert mapper is not None
    assert mapper.order_mapper is not None
    order = mapper.order_mapper(
        {
            "id": 820982911946154508,
            "name": "#1001",
            "updated_at": "2026-01-05T10:00:00-05:00",
            "currency": "USD",
            "financial_status": "paid",
            "line_items": [{"id": 466157049, "sku": "TEE-M", "quantity": 2, "price": "25.00"}],
        }
    )
    assert order.external_id == "gid://shopify/Order/820982911946154508"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("TEE-M", 2, Money(2500, "USD"))
    ]
    assert order.status == "paid"
