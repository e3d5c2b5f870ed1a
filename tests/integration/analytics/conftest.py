"""The sales fixture: a month of orders whose every figure is worked out by hand in the tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.catalog.model import ProductOption, ProductSpec, VariantSpec
from domain.catalog.products import create_product
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine
from domain.money import Money
from domain.orders.fulfilment import create_shipment, return_lines
from domain.orders.ingest import ingest
from domain.orders.model import Order
from tests.integration.orders.conftest import SKU, Hub, hub

__all__ = ["DAY1", "DAY2", "Sales", "hub", "sales"]

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # EUR at 1.10 USD
DAY2 = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # EUR at 1.20 USD
MARCH, APRIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
A, B = "A-1", "B-1"  # A costs 8.00 USD, B 4.00 EUR; PART-1 has no variant (no cost)


@dataclass
class Sales:
    hub: Hub
    product_a: str
    product_b: str


def _line(
    order: str, n: int, sku: str, qty: int, price: Money, off: Money | None = None
) -> ChannelOrderLine:
    return ChannelOrderLine(f"{order}-{n}", sku, qty, price, off)


def _order(
    external_id: str,
    placed: datetime,
    lines: tuple[ChannelOrderLine, ...],
    fees=(),  # type: ignore[no-untyped-def]
) -> ChannelOrder:
    return ChannelOrder(
        external_id=external_id, number=external_id, updated_at=placed, placed_at=placed,
        status="paid", lines=lines, fees=tuple(fees or ()),
    )  # fmt: skip


async def _take_and_ship(
    hub: Hub, channel: uuid.UUID, order: ChannelOrder, ship: dict[str, int]
) -> Order:
    taken = await hub.take(channel, order)
    lines = [(ln.id, ship[ln.sku]) for ln in taken.lines if ln.sku in ship]
    if lines:
        taken, _ = await create_shipment(
            hub.container.uow, order_id=taken.id, lines=lines, location_id=hub.warehouse,
            carrier="UPS", tracking_number=f"T-{order.external_id}",
            key=f"ship-{order.external_id}", actor="test",
        )  # fmt: skip
    return taken


@pytest.fixture
async def sales(hub: Hub) -> Sales:
    usd, eur = (lambda m: Money(m, "USD")), (lambda m: Money(m, "EUR"))
    async with hub.container.uow() as uow:
        made = []
        for handle, sku, price, cost in (
            ("a", A, usd(2000), usd(800)),
            ("b", B, eur(1000), eur(400)),
        ):
            spec = ProductSpec(
                handle=handle, title=handle.upper(),
                options=(ProductOption("Size", ("M",)),),
                variants=(VariantSpec(sku, ("M",), price, cost=cost),),
            )  # fmt: skip
            made.append(await create_product(uow, spec, hub.container.listing_formats, now=DAY1))
        await uow.pricing.set_rate("EUR", "USD", Decimal("1.10"), DAY1 - timedelta(days=1))
        await uow.pricing.set_rate("EUR", "USD", Decimal("1.20"), DAY2 - timedelta(hours=1))
        await uow.commit()
    for sku in (A, B, SKU):
        await hub.receive(10, sku=sku)

    # O1, shop, day 1, USD: A x2 at 20.00 with 4.00 off, shipped; a 1.50 payment fee.
    o1 = _order("O1", DAY1, (_line("O1", 0, A, 2, usd(2000), usd(400)),),
                [ChannelFee("payment", usd(150))])  # fmt: skip
    await _take_and_ship(hub, hub.shop, o1, {A: 2})
    # O2, market, day 1, EUR: A x1 at 18.00, B x3 at 10.00 (a 2.00 sale fee on B's line) and
    # a 1.00 marketplace fee; one B ships, then the channel cancels the order.
    fees = [ChannelFee("sale_fee", eur(200), "O2-1"), ChannelFee("marketplace", eur(100))]
    lines = (_line("O2", 0, A, 1, eur(1800)), _line("O2", 1, B, 3, eur(1000)))
    o2 = _order("O2", DAY1 + timedelta(hours=1), lines, fees)
    await _take_and_ship(hub, hub.market, o2, {B: 1})
    cancelled = replace(o2, status="cancelled", updated_at=o2.updated_at + timedelta(hours=2))
    await ingest(hub.container.uow, hub.market, cancelled, actor="test")
    # O3, shop, day 2, USD: A x1 at 20.00 shipped and returned; PART-1 x2 at 5.00 reserved.
    o3 = _order("O3", DAY2, (_line("O3", 0, A, 1, usd(2000)), _line("O3", 1, SKU, 2, usd(500))))
    shipped = await _take_and_ship(hub, hub.shop, o3, {A: 1})
    returned = [ln.id for ln in shipped.lines if ln.sku == A]
    await return_lines(
        hub.container.uow, order_id=shipped.id, line_ids=returned, restock=True,
        reason="too big", key="ret-O3", actor="test",
    )  # fmt: skip
    # O4, market, April: outside the month.
    await hub.take(
        hub.market, _order("O4", APRIL + timedelta(days=1), (_line("O4", 0, A, 1, usd(2000)),))
    )
    return Sales(hub, str(made[0].id), str(made[1].id))
