"""Who came first for the last unit, at each channel's clock resolution, and whose held units a
conflict may take: pure rules, no I/O."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels.availability import AvailabilityRule
from domain.channels.model import Channel, ChannelKind
from domain.orders.model import (
    Customer,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PickStage,
)
from domain.orders.precedence import Placement, placed_before, precedence, same_moment, takeable

T0 = datetime(2026, 11, 27, 12, 0, 7, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def order(
    placed: datetime, arrived: datetime, status: OrderStatus = OrderStatus.ALLOCATED
) -> Order:
    return Order(
        id=uuid.uuid4(), channel_id=uuid.uuid4(), external_id="x", number=None, status=status,
        placed_at=placed, channel_updated_at=placed, customer=Customer(), shipping_address={},
        currency="USD", total_minor=1000, needs_attention=False, attention_reason=None,
        created_at=arrived, updated_at=arrived,
    )  # fmt: skip


def channel(kind: ChannelKind) -> Channel:
    return Channel(uuid.uuid4(), kind.value, kind, "USD", 0, (), AvailabilityRule(), T0)


def placement(kind: ChannelKind, placed: datetime, arrived: datetime) -> Placement:
    return Placement.of(order(placed, arrived), kind)


def test_every_channel_kind_has_a_time_resolution() -> None:
    assert {kind: kind.time_resolution for kind in ChannelKind} == {
        ChannelKind.SHOPIFY: timedelta(seconds=1),
        ChannelKind.AMAZON: timedelta(seconds=1),
        ChannelKind.EBAY: MS,
        ChannelKind.MERCADOLIBRE: MS,
        ChannelKind.WEBSTORE: timedelta(microseconds=1),
    }


def test_a_shop_order_stamped_earlier_in_the_same_second_comes_after_an_earlier_arrival() -> None:
    # The web store's order at :07.400 reached Nexo first; the shop's, placed at :07.900,
    # is stamped :07 (whole seconds) and arrived later.
    web = placement(ChannelKind.WEBSTORE, T0 + 400 * MS, T0 + 410 * MS)
    shop = placement(ChannelKind.SHOPIFY, T0, T0 + 950 * MS)

    assert same_moment(web, shop)
    assert placed_before(web, shop)
    assert not placed_before(shop, web)


def test_stamps_a_full_resolution_apart_are_ordered_by_the_stamps_whatever_the_arrival() -> None:
    shop = placement(ChannelKind.SHOPIFY, T0, T0 + timedelta(minutes=5))  # pulled late
    web = placement(ChannelKind.WEBSTORE, T0 + timedelta(seconds=1), T0 + timedelta(seconds=1))

    assert not same_moment(shop, web)
    assert placed_before(shop, web)


def test_two_shop_orders_of_the_same_second_go_by_arrival_at_nexo() -> None:
    first = placement(ChannelKind.SHOPIFY, T0, T0 + 200 * MS)
    second = placement(ChannelKind.SHOPIFY, T0, T0 + 300 * MS)

    assert placed_before(first, second)
    assert not placed_before(second, first)


def test_the_coarser_clock_of_the_two_decides_what_is_a_tie() -> None:
    ebay = placement(ChannelKind.EBAY, T0 + 500 * MS, T0 + 2 * timedelta(seconds=1))
    shop = placement(ChannelKind.SHOPIFY, T0, T0 + timedelta(seconds=1))
    web = placement(ChannelKind.WEBSTORE, T0 + 2 * MS, T0 + timedelta(seconds=3))

    assert same_moment(ebay, shop)
    assert placed_before(shop, ebay)  # arrived first
    assert not same_moment(ebay, web)
    assert placed_before(web, ebay)  # milliseconds apart


instants = st.integers(min_value=0, max_value=3_000_000).map(
    lambda us: T0 + timedelta(microseconds=us)
)
placements = st.builds(
    lambda kind, placed, arrived: placement(
        kind, T0 + (placed - T0) // kind.time_resolution * kind.time_resolution, arrived
    ),
    st.sampled_from(ChannelKind),
    instants,
    instants,
)


@given(placements, placements)
def test_of_two_orders_exactly_one_came_first(a: Placement, b: Placement) -> None:
    assert placed_before(a, b) != placed_before(b, a)


@given(st.sampled_from(ChannelKind), st.lists(st.tuples(instants, instants), min_size=2))
def test_the_sort_key_agrees_with_placed_before_within_one_channel(
    kind: ChannelKind, times: list[tuple[datetime, datetime]]
) -> None:
    step = kind.time_resolution
    orders = [order(T0 + (placed - T0) // step * step, arrived) for placed, arrived in times]
    ranked = sorted(orders, key=precedence)
    for earlier, later in itertools.pairwise(ranked):
        assert placed_before(Placement.of(earlier, kind), Placement.of(later, kind))


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        (ChannelKind.SHOPIFY, OrderStatus.ALLOCATED, True),
        (ChannelKind.SHOPIFY, OrderStatus.PARTIALLY_ALLOCATED, True),
        (ChannelKind.EBAY, OrderStatus.OPEN, True),
        (ChannelKind.SHOPIFY, OrderStatus.PARTIALLY_SHIPPED, False),  # being shipped
        (ChannelKind.WEBSTORE, OrderStatus.ALLOCATED, False),  # confirmed at checkout
        (ChannelKind.WEBSTORE, OrderStatus.PARTIALLY_ALLOCATED, False),
    ],
)
def test_only_marketplace_orders_not_yet_shipping_give_back_their_units(
    kind: ChannelKind, status: OrderStatus, expected: bool
) -> None:
    assert takeable(order(T0, T0, status), channel(kind)) is expected


@pytest.mark.parametrize("stage", [PickStage.PICKED, PickStage.PACKED])
def test_an_order_with_a_line_picked_or_packed_keeps_its_units(stage: PickStage) -> None:
    placed = order(T0, T0)
    line = OrderLine(uuid.uuid4(), placed.id, "l1", "S", "S", 1, 100, "USD",
                     LineStatus.ALLOCATED, reservation_id=uuid.uuid4())  # fmt: skip
    assert takeable(replace(placed, lines=(line,)), channel(ChannelKind.SHOPIFY))
    picked = replace(placed, lines=(replace(line, stage=stage),))
    assert not takeable(picked, channel(ChannelKind.SHOPIFY))
