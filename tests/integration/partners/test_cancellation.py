"""A partner hears of a cancellation as it heard of the request: written in the cancelling
transaction, delivered once as a signed `fulfilment_request.cancelled` webhook after the
request's — on each backend, against a real (in-process) HTTP receiver."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.errors import IllegalState
from domain.inventory import stock
from domain.inventory.alerts import AlertKind
from domain.money import Money
from domain.orders.cancelling import cancel_order
from domain.orders.handoff import Cancellation, DeliveryStatus, RequestStatus
from domain.orders.ingest import ingest
from domain.partners.delivery import CANCELLED_EVENT, EVENT
from domain.partners.work import Scope, ship
from tests.integration.partners.conftest import SKU, Partner
from tests.stockroom import T0


async def _cancellations(partner: Partner, order_id: uuid.UUID) -> list[Cancellation]:
    async with partner.container.uow(readonly=True) as uow:
        requests = await uow.partners.for_order(order_id)
        return await uow.partners.cancellations([r.id for r in requests])


async def _reserved_at(partner: Partner, location_id: uuid.UUID) -> int:
    async with partner.container.uow(readonly=True) as uow:
        snapshot = (await uow.inventory.snapshots([SKU]))[SKU]
    level = snapshot.level_at(location_id)
    return level.reserved if level else 0


async def test_a_merchant_cancellation_reaches_the_partner_signed_once(partner: Partner) -> None:
    order_id = await partner.take("C-1", quantity=2)
    await partner.deliver()  # the partner has the request
    (request,) = await partner.requests(order_id)

    await cancel_order(
        partner.container.uow, order_id=order_id, reason="customer asked", key="c1",
        actor="test", clock=partner.clock,
    )  # fmt: skip
    await cancel_order(  # the same cancellation again: nothing new to tell
        partner.container.uow, order_id=order_id, reason="customer asked", key="c1-again",
        actor="test", clock=partner.clock,
    )  # fmt: skip
    await partner.deliver()
    await partner.deliver()  # nothing left due: no second webhook

    assert partner.receiver.events == [EVENT, CANCELLED_EVENT]
    signed, body = partner.receiver.received[1]
    assert signed
    (cancellation,) = await _cancellations(partner, order_id)
    assert body["event"] == CANCELLED_EVENT
    assert body["id"] == str(cancellation.id)
    assert body["requestId"] == str(request.id)
    assert body["reason"] == "customer asked"
    assert body["lines"] == [{"lineId": str(request.lines[0].line_id), "sku": SKU, "quantity": 2}]
    assert cancellation.delivery is DeliveryStatus.DELIVERED
    (after,) = await partner.requests(order_id)
    assert after.status is RequestStatus.CANCELLED
    assert await _reserved_at(partner, partner.dropship) == 0


async def test_a_channel_cancellation_reaches_the_partner_after_its_request(
    partner: Partner,
) -> None:
    await partner.take("C-2")
    cancelled = ChannelOrder(
        external_id="C-2", number="#C-2", updated_at=T0 + timedelta(hours=1), placed_at=T0,
        status="cancelled", lines=(ChannelOrderLine("C-2-0", SKU, 1, Money(1000, "USD")),),
        customer={"name": "Ada", "email": "ada@example.com", "phone": None}, raw={},
    )  # fmt: skip
    # Cancelled before its request went out: the request still goes first, then the cancel.
    await ingest(partner.container.uow, partner.shop, cancelled, actor="test", clock=partner.clock)
    await partner.deliver()
    assert partner.receiver.events == [EVENT]  # the cancellation waits for its request
    await partner.deliver()

    assert partner.receiver.events == [EVENT, CANCELLED_EVENT]
    assert all(signed for signed, _ in partner.receiver.received)
    _, body = partner.receiver.received[1]
    assert body["reason"] == "cancelled on the channel"
    assert [line["quantity"] for line in body["lines"]] == [1]  # type: ignore[index]


async def test_a_line_cancelled_alone_is_withdrawn_and_the_request_stays_open(
    partner: Partner,
) -> None:
    order_id = await partner.take("C-6", quantity=2, lines=2)
    await partner.deliver()
    (request,) = await partner.requests(order_id)
    first, _ = request.lines

    await cancel_order(
        partner.container.uow, order_id=order_id, reason="out of colour", key="c6",
        actor="test", line_ids=[first.line_id], clock=partner.clock,
    )  # fmt: skip
    await partner.deliver()

    assert partner.receiver.events == [EVENT, CANCELLED_EVENT]
    _, body = partner.receiver.received[1]
    assert body["lines"] == [{"lineId": str(first.line_id), "sku": SKU, "quantity": 2}]
    (after,) = await partner.requests(order_id)
    assert after.status is RequestStatus.REQUESTED  # its other line is still to ship
    assert await _reserved_at(partner, partner.dropship) == 2


async def test_a_line_losing_its_unit_to_an_earlier_order_is_withdrawn(partner: Partner) -> None:
    await stock.count(  # one unit left at the supplier
        partner.container.uow, sku=SKU, location_id=partner.dropship, on_hand=1,
        expected_on_hand=None, key="one", actor="test",
    )  # fmt: skip
    later = await partner.take("L-2", placed=T0 + timedelta(minutes=5))
    await partner.deliver()
    (lost,) = await partner.requests(later)

    earlier = await partner.take("L-1", placed=T0)  # first come: it takes the unit back
    await partner.deliver()
    await partner.deliver()

    (won,) = await partner.requests(earlier)
    assert sorted(partner.receiver.events) == sorted([EVENT, EVENT, CANCELLED_EVENT])
    cancelled = [body for _, body in partner.receiver.received if body["event"] == CANCELLED_EVENT]
    assert [(c["requestId"], c["lines"]) for c in cancelled] == [
        (str(lost.id), [{"lineId": str(lost.lines[0].line_id), "sku": SKU, "quantity": 1}])
    ]
    assert (await partner.requests(later))[0].status is RequestStatus.CANCELLED
    assert won.status is RequestStatus.REQUESTED


async def test_a_warehouse_line_cancelled_sends_nothing(partner: Partner) -> None:
    await stock.count(  # the supplier ran dry: only the warehouse holds the SKU
        partner.container.uow, sku=SKU, location_id=partner.dropship, on_hand=0,
        expected_on_hand=None, key="dry", actor="test",
    )  # fmt: skip
    await stock.receive(
        partner.container.uow, sku=SKU, location_id=partner.warehouse, quantity=5,
        key="receive-wh", actor="test",
    )  # fmt: skip
    order_id = await partner.take("W-1")

    await cancel_order(
        partner.container.uow, order_id=order_id, reason="", key="w1", actor="test",
        clock=partner.clock,
    )  # fmt: skip
    await partner.deliver()

    assert await _cancellations(partner, order_id) == []
    assert partner.receiver.received == []
    assert await _reserved_at(partner, partner.warehouse) == 0


async def test_a_cancelled_request_cannot_be_shipped_and_an_attempt_alerts_the_merchant(
    partner: Partner,
) -> None:
    """The partner may have sent the goods before it read the cancellation: its stock and
    the customer need a person, and the refusal alone told no one."""
    order_id = await partner.take("C-3")
    (request,) = await partner.requests(order_id)
    await cancel_order(
        partner.container.uow, order_id=order_id, reason="", key="c3", actor="test",
        clock=partner.clock,
    )  # fmt: skip

    with pytest.raises(IllegalState, match="was cancelled"):
        await ship(
            partner.container.uow, request_id=request.id, scope=Scope(partner.dropship),
            carrier="UPS", tracking_number="1Z-GONE", key="s1", actor="partner",
            clock=partner.clock,
        )  # fmt: skip

    async with partner.container.uow(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku=None, first=50, after=None)
    (alert,) = [a for a in alerts if a.kind is AlertKind.SHIPPED_CANCELLED]
    assert alert.sku == SKU
    assert f"cancelled fulfilment request {request.id}" in (alert.message or "")
    assert "'1Z-GONE'" in (alert.message or "")
    assert await _reserved_at(partner, partner.dropship) == 0  # nothing else changed


async def test_a_shipped_line_is_not_cancelled_and_sends_nothing(partner: Partner) -> None:
    order_id = await partner.take("C-4")
    (request,) = await partner.requests(order_id)
    await ship(
        partner.container.uow, request_id=request.id, scope=Scope(partner.dropship),
        carrier="UPS", tracking_number="1Z", key="s1", actor="partner", clock=partner.clock,
    )  # fmt: skip

    with pytest.raises(IllegalState):
        await cancel_order(
            partner.container.uow, order_id=order_id, reason="", key="c4", actor="test",
            clock=partner.clock,
        )  # fmt: skip
    await partner.deliver()

    assert partner.receiver.events == [EVENT]
    assert await _cancellations(partner, order_id) == []


async def test_a_cancellation_the_partner_refuses_is_retried_then_buried_with_an_alert(
    partner: Partner,
) -> None:
    order_id = await partner.take("C-5")
    await partner.deliver()  # the request: delivered
    await cancel_order(
        partner.container.uow, order_id=order_id, reason="", key="c5", actor="test",
        clock=partner.clock,
    )  # fmt: skip
    partner.receiver.answers = [503, 500, 500, 200]

    await partner.deliver()
    (first,) = await _cancellations(partner, order_id)
    assert (first.delivery, first.attempts) == (DeliveryStatus.RETRY, 1)
    assert first.available_at == partner.clock() + timedelta(seconds=10)
    for _ in range(3):
        partner.clock.advance(seconds=60)
        await partner.deliver()

    (dead,) = await _cancellations(partner, order_id)
    assert (dead.delivery, dead.attempts) == (DeliveryStatus.DEAD, 3)
    assert partner.receiver.events == [EVENT] + [CANCELLED_EVENT] * 3
    async with partner.container.uow(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku=None, first=50, after=None)
    (alert,) = [a for a in alerts if a.kind is AlertKind.HANDOFF_FAILED]
    assert f"cancellation {dead.id}" in (alert.message or "")
