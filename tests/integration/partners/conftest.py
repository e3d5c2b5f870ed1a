"""A dropship location with its partner's endpoint, a shop selling from it, and the partner's
(in-process, real HTTP) receiver checking each webhook's signature."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.container import Container, build_container
from adapters.partners.signing import EVENT_HEADER, SIGNATURE_HEADER, verify
from adapters.partners.webhooks import SignedWebhooks
from adapters.settings import Settings
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory import setup, stock
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.handoff import FulfilmentRequest, hand_off
from domain.orders.ingest import ingest
from domain.partners.delivery import deliver_due
from domain.partners.endpoints import set_partner_endpoint
from tests.stockroom import T0, Clock

SKU = "DROP-1"
SECRET = "partner-secret-0123456789"
URL = "http://partner.test/requests"


@dataclass
class Receiver:
    """The partner's endpoint: answers each POST with the next status it is told to."""

    answers: list[int] = field(default_factory=list)
    received: list[tuple[bool, dict[str, object]]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # each webhook's X-Nexo-Event
    now: int = 0

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        signed = verify(
            SECRET.encode(), request.headers.get(SIGNATURE_HEADER, ""), body, now=self.now
        )
        self.received.append((signed, json.loads(body)))
        self.events.append(request.headers.get(EVENT_HEADER, ""))
        return Response(status_code=self.answers.pop(0) if self.answers else 200)


@dataclass
class Partner:
    container: Container
    clock: Clock
    receiver: Receiver
    webhooks: SignedWebhooks
    dropship: uuid.UUID
    warehouse: uuid.UUID
    shop: uuid.UUID

    async def take(
        self, external_id: str, quantity: int = 1, placed: datetime = T0, lines: int = 1
    ) -> uuid.UUID:
        incoming = ChannelOrder(
            external_id=external_id, number=f"#{external_id}", updated_at=T0, placed_at=placed,
            status="paid",
            lines=tuple(
                ChannelOrderLine(f"{external_id}-{n}", SKU, quantity, Money(1000, "USD"))
                for n in range(lines)
            ),
            customer={"name": "Ada", "email": "ada@example.com", "phone": None},
            raw={"shipping_address": {"line1": "1 Main St", "city": "Springfield"}},
        )  # fmt: skip
        taken = await ingest(self.container.uow, self.shop, incoming, actor="test")
        await allocate(self.container.uow, taken.order.id, actor="test", clock=self.clock)
        return taken.order.id

    async def hand_off_again(self, order_id: uuid.UUID) -> None:
        async with self.container.uow() as uow:
            order = await uow.orders.lock(order_id)
            assert order is not None
            await hand_off(uow, [order], self.clock())
            await uow.commit()

    async def requests(self, order_id: uuid.UUID) -> list[FulfilmentRequest]:
        async with self.container.uow(readonly=True) as uow:
            return await uow.partners.for_order(order_id)

    async def deliver(self) -> None:
        self.receiver.now = int(self.clock().timestamp())
        await deliver_due(
            self.container.uow, self.webhooks, clock=self.clock, max_attempts=3,
            backoff=lambda attempt: 10.0 * attempt,
        )  # fmt: skip


@pytest.fixture
async def partner(settings: Settings) -> AsyncIterator[Partner]:
    # No job registry: the test runs deliveries itself, nothing runs behind its back.
    container = build_container(settings)
    await container.start()
    clock = Clock(T0)
    receiver = Receiver()
    app = Starlette(routes=[Route("/requests", receiver.endpoint, methods=["POST"])])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    webhooks = SignedWebhooks(
        http, lambda: container.secrets, wall_clock=lambda: clock().timestamp()
    )
    try:
        async with container.uow() as uow:
            make = setup.create_location
            dropship = await make(uow, code="DS", name="Supplier", kind="dropship")
            warehouse = await make(uow, code="WH", name="Warehouse", kind="warehouse")
            await setup.create_inventory_item(uow, sku=SKU)
            shop = await channel_setup.create_channel(
                uow, name="Shop", kind="shopify", currency="USD", priority=1,
                location_ids=[warehouse.id, dropship.id], rule=AvailabilityRule(),
            )  # fmt: skip
            await set_partner_endpoint(
                uow, location_id=dropship.id, url=URL, secret=SECRET, box=container.secrets,
                now=T0,
            )  # fmt: skip
            await uow.commit()
        await stock.receive(
            container.uow, sku=SKU, location_id=dropship.id, quantity=5, key="receive",
            actor="test",
        )  # fmt: skip
        yield Partner(container, clock, receiver, webhooks, dropship.id, warehouse.id, shop.id)
    finally:
        await http.aclose()
        await container.close()
