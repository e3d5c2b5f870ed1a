"""Amazon's notifications as the hub reads them from the queue, and its orders as the hub takes
them: the same change gives the same order version by either road."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.channels.amazon.notifications import parse
from adapters.channels.amazon.orders import channel_order
from domain.channels.port import ChannelRejected, InboundKind
from domain.money import Money
from sandbox.amazon.orders import Line, Order, quantity_change

AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC).timestamp()


def order() -> Order:
    lines = [Line("11", "MUG", 3, Money.parse("9.50", "USD").amount, "USD", cancelled=1)]
    return Order("114-1-1", "ATVPDKIKX0DER", "MERCHANT", AT - 60, AT, lines)


def test_an_order_change_and_the_pulled_order_are_the_same_version() -> None:
    body = json.dumps(order().order_change("SELLER", "NewOrder", "n-1", AT + 5)).encode()

    event = parse(body)
    pulled = channel_order(order().as_2026())

    assert (event.event_id, event.kind, event.topic) == ("n-1", InboundKind.ORDER, "ORDER_CHANGE")
    assert event.order is not None
    assert event.order.updated_at == pulled.updated_at == datetime.fromtimestamp(AT, UTC)
    assert [(ln.line_id, ln.sku, ln.quantity) for ln in event.order.lines] == [("11", "MUG", 2)]
    assert [(ln.line_id, ln.sku, ln.quantity) for ln in pulled.lines] == [("11", "MUG", 2)]
    assert pulled.lines[0].unit_price == Money(950, "USD")
    assert event.order.lines[0].unit_price is None  # the summary carries no prices


def test_a_quantity_change_is_a_stock_edit_of_the_sku() -> None:
    body = json.dumps(quantity_change("SELLER", "MUG", 4, "n-2", AT)).encode()

    event = parse(body)

    assert event.kind is InboundKind.STOCK_EDIT
    assert event.stock_edit is not None
    assert (event.stock_edit.sku_refs, event.stock_edit.quantity) == ({"sku": "MUG"}, 4)


def test_another_notification_type_is_kept_and_not_acted_on() -> None:
    body = json.dumps({"NotificationType": "FEED_PROCESSING_FINISHED", "EventTime": "x",
                       "NotificationMetadata": {"NotificationId": "n-3"}}).encode()  # fmt: skip
    assert parse(body).kind is InboundKind.OTHER


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"NotificationType": "ORDER_CHANGE"}).encode(),
     json.dumps({"NotificationType": "ORDER_CHANGE", "EventTime": "2026-01-01T00:00:00Z",
                 "NotificationMetadata": {"NotificationId": "n"}, "Payload": {}}).encode()],
)  # fmt: skip
def test_an_unreadable_notification_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(ChannelRejected):
        parse(body)
