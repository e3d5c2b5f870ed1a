"""Customer fixtures: the order hub (a shop and a marketplace), and orders with a buyer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from adapters.container import Container, build_container
from adapters.settings import Settings
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.customers.linking import match_buyers
from domain.customers.model import Customer, Identity
from domain.money import Money
from domain.orders.ingest import ingest
from domain.orders.model import Order
from tests.integration.orders.conftest import SKU, T0, Hub, hub
from workers.registry import JOBS

__all__ = ["Hub", "buyer_order", "container", "customer_of", "hub", "match_all", "take"]

ADDRESS = {"line1": "1 Main Street", "city": "Springfield", "zip": "94103", "country": "US"}


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """The jobs, but none of the periodic ones: each test matches buyers when it says so."""
    built = build_container(
        settings, [s for s in JOBS if s.every_seconds is None], retry_base_seconds=0.01
    )
    await built.start()
    try:
        yield built
    finally:
        await built.close()


def buyer_order(
    external_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    buyer_id: str | None = None,
    address: dict[str, str] | None = None,
    placed: datetime = T0,
    price: Money = Money(1000, "USD"),
    quantity: int = 1,
    status: str = "paid",
) -> ChannelOrder:
    return ChannelOrder(
        external_id=external_id, number=f"#{external_id}", updated_at=placed, placed_at=placed,
        status=status,
        lines=(ChannelOrderLine(f"{external_id}-0", SKU, quantity, price),),
        customer={"id": buyer_id, "name": name, "email": email, "phone": phone},
        raw={"shipping_address": address or {}},
    )  # fmt: skip


async def take(hub: Hub, channel: uuid.UUID, order: ChannelOrder) -> Order:
    """Store the order as a channel's delivery would (matching its buyer is the job's)."""
    return (await ingest(hub.container.uow, channel, order, actor="test")).order


async def match_all(hub: Hub) -> int:
    return await match_buyers(hub.container.uow)


async def customer_of(hub: Hub, order_id: uuid.UUID) -> tuple[Customer, Identity]:
    """The customer (and identity) the order's buyer was matched to."""
    async with hub.container.uow(readonly=True) as uow:
        identity = await uow.customers.identity_of_order(order_id)
        assert identity is not None, "the order's buyer is not matched"
        customer = await uow.customers.get(identity.customer_id)
    assert customer is not None
    return customer, identity
