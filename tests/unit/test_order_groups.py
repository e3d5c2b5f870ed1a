"""The rules of `orderGroups`, on orders built by hand: one customer's orders ready at one
location; e-mail and address for buyers not matched; no group said twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.orders.groups import GroupRule, order_groups, ready_at
from domain.orders.model import Customer, LineStatus, Order, OrderLine, OrderStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)
WH, STORE = uuid.uuid4(), uuid.uuid4()
ADA, BOB = uuid.uuid4(), uuid.uuid4()
HOME = {"line1": "1 Main St", "city": "Springfield"}


def _order(
    email: str | None,
    *lines: tuple[LineStatus, uuid.UUID | None, int, int],
    address: dict[str, str | None] | None = None,
) -> Order:
    order_id = uuid.uuid4()
    return Order(
        id=order_id, channel_id=uuid.uuid4(), external_id=str(order_id), number=None,
        status=OrderStatus.ALLOCATED, placed_at=T0, channel_updated_at=T0,
        customer=Customer("Ada", email), shipping_address=address or HOME, currency="USD",
        total_minor=None, needs_attention=False, attention_reason=None, created_at=T0,
        updated_at=T0,
        lines=tuple(
            OrderLine(uuid.uuid4(), order_id, f"l{n}", "S", "S", quantity, 100, "USD", status,
                      location_id=location, shipped_quantity=shipped)
            for n, (status, location, quantity, shipped) in enumerate(lines)
        ),
    )  # fmt: skip


def test_ready_at_is_where_units_are_reserved_and_left_to_ship() -> None:
    order = _order(
        None,
        (LineStatus.ALLOCATED, WH, 1, 0),
        (LineStatus.PARTIALLY_SHIPPED, STORE, 2, 1),
        (LineStatus.SHORT, None, 1, 0),
        (LineStatus.SHIPPED, WH, 1, 1),
        (LineStatus.ALLOCATED, WH, 1, 0),
    )
    assert ready_at(order) == [WH, STORE]
    assert ready_at(_order(None, (LineStatus.OPEN, None, 1, 0))) == []


def test_one_customers_orders_group_per_location_and_no_group_is_repeated() -> None:
    a1 = _order("ada@x.io", (LineStatus.ALLOCATED, WH, 1, 0))
    a2 = _order("a.da@x.io", (LineStatus.ALLOCATED, WH, 1, 0), (LineStatus.ALLOCATED, STORE, 1, 0),
                address={"line1": "9 Elm St"})  # fmt: skip
    a3 = _order("ada@x.io", (LineStatus.ALLOCATED, STORE, 1, 0))
    a4 = _order("ada@x.io", (LineStatus.OPEN, None, 1, 0))  # nothing reserved yet
    unmatched = _order("ada@x.io", (LineStatus.ALLOCATED, WH, 1, 0))
    customer_of = {a1.id: ADA, a2.id: ADA, a3.id: ADA, a4.id: ADA}

    groups = order_groups([a1, a2, a3, a4, unmatched], customer_of)

    assert [(g.rule, g.customer_id, g.location_id, [o.id for o in g.orders], g.same_address)
            for g in groups] == [
        (GroupRule.CUSTOMER_AND_LOCATION, ADA, WH, [a1.id, a2.id], False),
        (GroupRule.CUSTOMER_AND_LOCATION, ADA, STORE, [a2.id, a3.id], False),
        # The same e-mail to the same address: a1, a3, a4 and the order not matched yet (a1
        # and a3 are in no one customer group together, so the group is said).
        (GroupRule.EMAIL_AND_ADDRESS, None, None, [a1.id, a3.id, a4.id, unmatched.id], True),
    ]  # fmt: skip
    assert groups[0].customer_email == "ada@x.io"

    # A person took Bob's identity (her e-mail) out of her customer: no e-mail group joins
    # them again.
    bob = _order("ada@x.io", (LineStatus.OPEN, None, 1, 0))
    assert order_groups([a4, bob], {a4.id: ADA, bob.id: BOB}) == []


def test_an_email_group_inside_a_customer_group_is_not_repeated() -> None:
    a1 = _order("ada@x.io", (LineStatus.ALLOCATED, WH, 1, 0))
    a2 = _order("ada@x.io", (LineStatus.ALLOCATED, WH, 1, 0))
    [group] = order_groups([a1, a2], {a1.id: ADA, a2.id: ADA})
    assert (group.rule, group.same_address) == (GroupRule.CUSTOMER_AND_LOCATION, True)
    no_email = _order(None, (LineStatus.ALLOCATED, WH, 1, 0))
    assert order_groups([a1, no_email], {}) == []
