"""Routing: which location ships each line, as a pure function of the channel and the stock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.channels.policies import Fulfilment
from domain.inventory.model import (
    InventoryItem,
    LevelAtLocation,
    Location,
    LocationKind,
    SkuSnapshot,
    StockLevel,
)
from domain.orders.model import LineStatus, OrderLine
from domain.orders.routing import Route, route, usable_locations

T0 = datetime(2026, 11, 27, tzinfo=UTC)
KINDS = {
    "WH1": LocationKind.WAREHOUSE,
    "WH2": LocationKind.WAREHOUSE,
    "ST1": LocationKind.STORE,
    "FBA": LocationKind.CHANNEL_MANAGED,
    "DS2": LocationKind.DROPSHIP,
    "DS1": LocationKind.DROPSHIP,
}
PLACES = {
    code: Location(uuid.UUID(int=n + 1), code, code, kind, T0)
    for n, (code, kind) in enumerate(KINDS.items())
}
BY_ID = {loc.id: loc for loc in PLACES.values()}


def at(code: str) -> uuid.UUID:
    return PLACES[code].id


def stock(**levels: dict[str, int]) -> dict[str, SkuSnapshot]:
    """Snapshots from `SKU={"CODE": available, ...}` (nothing reserved)."""
    return {
        sku: SkuSnapshot(
            InventoryItem(sku, None, sum(units.values()), T0),
            tuple(
                LevelAtLocation(StockLevel(sku, at(code), n, 0, 1), code, KINDS[code])
                for code, n in units.items()
            ),
        )
        for sku, units in levels.items()
    }


def line(sku: str | None, quantity: int = 1) -> OrderLine:
    return OrderLine(
        uuid.uuid4(), uuid.UUID(int=99), f"L-{uuid.uuid4()}", sku, sku, quantity, 100, "USD",
        LineStatus.OPEN,
    )  # fmt: skip


def routed(
    lines: list[OrderLine],
    channel: list[str],
    snapshots: dict[str, SkuSnapshot],
    fulfilment: Fulfilment = Fulfilment.MERCHANT,
) -> list[tuple[str, str] | None]:
    """Per line: (location code, rule), or None where it is left unrouted."""
    found = route(lines, [at(c) for c in channel], BY_ID, snapshots, fulfilment)
    out: list[tuple[str, str] | None] = []
    for ln in lines:
        chosen: Route | None = found.get(ln.id)
        out.append((BY_ID[chosen.location_id].code, chosen.rule) if chosen else None)
    return out


def test_the_whole_order_ships_from_the_first_of_the_channels_locations_that_has_it_all() -> None:
    lines = [line("A", 2), line("B")]
    snapshots = stock(A={"WH1": 5, "WH2": 5}, B={"WH1": 1, "WH2": 1})

    # The channel's own order decides, not the codes: WH2 is listed first.
    assert routed(lines, ["WH2", "WH1"], snapshots) == [
        ("WH2", "whole order from WH2"), ("WH2", "whole order from WH2"),
    ]  # fmt: skip


def test_a_location_that_has_only_part_of_the_order_is_passed_over_for_one_that_has_it_all() -> (
    None
):
    lines = [line("A"), line("B")]
    snapshots = stock(A={"WH1": 1, "WH2": 1}, B={"WH2": 1})

    assert routed(lines, ["WH1", "WH2"], snapshots) == [
        ("WH2", "whole order from WH2"), ("WH2", "whole order from WH2"),
    ]  # fmt: skip


def test_when_no_location_has_it_all_each_line_ships_from_the_first_that_has_it() -> None:
    lines = [line("A"), line("B")]
    snapshots = stock(A={"WH1": 1}, B={"WH2": 1})

    assert routed(lines, ["WH1", "WH2"], snapshots) == [
        ("WH1", "split: first location with stock (WH1)"),
        ("WH2", "split: first location with stock (WH2)"),
    ]


def test_two_lines_of_one_sku_do_not_count_the_same_units_twice() -> None:
    lines = [line("A", 2), line("A", 2), line("B")]  # B is nowhere: no whole order
    snapshots = stock(A={"WH1": 3, "WH2": 2})

    assert routed(lines, ["WH1", "WH2"], snapshots) == [
        ("WH1", "split: first location with stock (WH1)"),
        ("WH2", "split: first location with stock (WH2)"),
        None,
    ]


def test_a_supplier_ships_what_the_channels_locations_lack_first_by_code() -> None:
    lines = [line("A", 3)]
    snapshots = stock(A={"WH1": 2, "DS2": 9, "DS1": 3})

    assert routed(lines, ["WH1"], snapshots) == [("DS1", "dropship fallback (DS1)")]


def test_merchant_orders_never_take_the_stock_a_channel_holds_even_at_its_own_location() -> None:
    snapshots = stock(A={"FBA": 9})

    assert routed([line("A")], ["FBA", "WH1"], snapshots) == [None]
    assert at("FBA") not in usable_locations([at("FBA"), at("WH1")], BY_ID, Fulfilment.MERCHANT)


def test_channel_managed_orders_take_only_the_channels_own_stock_and_no_supplier() -> None:
    snapshots = stock(A={"WH1": 9, "FBA": 1, "DS1": 9})
    managed = Fulfilment.CHANNEL_MANAGED

    assert routed([line("A")], ["WH1", "FBA"], snapshots, managed) == [
        ("FBA", "whole order from FBA (channel-managed)")
    ]
    assert routed([line("A", 2)], ["WH1", "FBA"], snapshots, managed) == [None]
    assert usable_locations([at("WH1"), at("FBA")], BY_ID, managed) == {at("FBA")}


def test_a_line_without_a_hub_sku_is_left_for_a_person_to_map() -> None:
    lines = [line(None), line("A")]
    snapshots = stock(A={"WH1": 1})

    assert routed(lines, ["WH1"], snapshots) == [
        None, ("WH1", "split: first location with stock (WH1)"),
    ]  # fmt: skip


def test_a_sku_the_hub_has_no_stock_record_of_is_left_unrouted() -> None:
    assert routed([line("GHOST")], ["WH1"], stock(A={"WH1": 5})) == [None]
