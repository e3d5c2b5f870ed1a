"""Fulfilment requests reach partners: made in the allocation's transaction (once per line),
delivered as a webhook the partner can verify, retried with backoff, dead-lettered with an
alert after the last attempt — on each backend, against a real (in-process) HTTP receiver."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.partners.signing import signature, verify
from domain.inventory import stock
from domain.inventory.alerts import AlertKind
from domain.orders.handoff import DeliveryStatus
from domain.partners.delivery import deliver_due
from tests.integration.partners.conftest import SKU, Partner
from tests.stockroom import T0


async def test_a_dropship_line_is_requested_once_and_reaches_the_partner_signed(
    partner: Partner,
) -> None:
    order_id = await partner.take("A-1", quantity=2)
    await partner.hand_off_again(order_id)  # the order recorded again: no second request

    (request,) = await partner.requests(order_id)
    assert request.location_id == partner.dropship
    assert [(ln.sku, ln.quantity) for ln in request.lines] == [(SKU, 2)]
    assert request.delivery is DeliveryStatus.PENDING

    await partner.deliver()
    await partner.deliver()  # nothing left due: no second webhook

    [(signed, body)] = partner.receiver.received
    assert signed
    assert body["id"] == str(request.id)
    assert body["orderNumber"] == "#A-1"
    assert body["lines"] == [{"lineId": str(request.lines[0].line_id), "sku": SKU, "quantity": 2}]
    assert body["shipTo"] == {"line1": "1 Main St", "city": "Springfield"}
    (after,) = await partner.requests(order_id)
    assert (after.delivery, after.attempts) == (DeliveryStatus.DELIVERED, 0)


async def test_a_failed_delivery_is_retried_after_its_backoff_then_delivered(
    partner: Partner,
) -> None:
    order_id = await partner.take("A-2")
    partner.receiver.answers = [503, 500]

    await partner.deliver()
    (first,) = await partner.requests(order_id)
    assert (first.delivery, first.attempts) == (DeliveryStatus.RETRY, 1)
    assert first.last_error == "the partner answered 503"
    assert first.available_at == T0 + timedelta(seconds=10)

    await partner.deliver()  # not due yet: nothing is sent
    assert len(partner.receiver.received) == 1

    partner.clock.advance(seconds=10)
    await partner.deliver()
    (second,) = await partner.requests(order_id)
    assert (second.delivery, second.attempts) == (DeliveryStatus.RETRY, 2)
    assert second.available_at == partner.clock() + timedelta(seconds=20)

    partner.clock.advance(seconds=20)
    await partner.deliver()
    (done,) = await partner.requests(order_id)
    assert done.delivery is DeliveryStatus.DELIVERED
    assert [signed for signed, _ in partner.receiver.received] == [True, True, True]


async def test_after_the_last_attempt_the_delivery_is_dead_and_alerted(partner: Partner) -> None:
    order_id = await partner.take("A-3")
    partner.receiver.answers = [500, 500, 500, 200]

    for _ in range(3):
        await partner.deliver()
        partner.clock.advance(seconds=60)
    await partner.deliver()  # dead: never tried again

    (dead,) = await partner.requests(order_id)
    assert (dead.delivery, dead.attempts) == (DeliveryStatus.DEAD, 3)
    assert len(partner.receiver.received) == 3
    async with partner.container.uow(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku=None, first=50, after=None)
    (alert,) = [a for a in alerts if a.kind is AlertKind.HANDOFF_FAILED]
    assert str(dead.id) in (alert.message or "")
    assert alert.sku == SKU


async def test_a_warehouse_line_makes_no_request(partner: Partner) -> None:
    await stock.count(  # the supplier ran dry: only the warehouse holds the SKU
        partner.container.uow, sku=SKU, location_id=partner.dropship, on_hand=0,
        expected_on_hand=None, key="dry", actor="test",
    )  # fmt: skip
    await stock.receive(
        partner.container.uow, sku=SKU, location_id=partner.warehouse, quantity=5,
        key="receive-wh", actor="test",
    )  # fmt: skip

    order_id = await partner.take("W-1")

    assert await partner.requests(order_id) == []
    await partner.deliver()
    assert partner.receiver.received == []


def test_a_signature_fails_for_another_body_secret_or_an_old_timestamp() -> None:
    body = b'{"id":"1"}'
    header = signature(b"secret-one", 1_000, body)
    assert verify(b"secret-one", header, body, now=1_010)
    assert not verify(b"secret-one", header, b'{"id":"2"}', now=1_010)
    assert not verify(b"secret-two", header, body, now=1_010)
    assert not verify(b"secret-one", header, body, now=1_000 + 301)
    assert not verify(b"secret-one", "t=abc,v1=00", body, now=1_000)


async def test_two_runs_racing_deliver_each_request_once(partner: Partner) -> None:
    orders = [await partner.take(f"R-{n}") for n in range(3)]
    partner.receiver.now = int(partner.clock().timestamp())

    async def run() -> None:
        await deliver_due(partner.container.uow, partner.webhooks, clock=partner.clock)

    await asyncio.gather(run(), run())

    delivered = sorted(str(body["orderId"]) for _, body in partner.receiver.received)
    assert delivered == sorted(str(order) for order in orders)
    for order in orders:
        (request,) = await partner.requests(order)
        assert request.delivery is DeliveryStatus.DELIVERED
