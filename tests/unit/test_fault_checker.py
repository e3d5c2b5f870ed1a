"""The fault harness's history checker on small hand-made histories: a clean one passes, and
each kind of violation is found and shown with the history that proves it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bench.faults.checker import RULES, Violation, by_rule, check, reserved_within_on_hand
from bench.faults.model import EndState, Level, Line, Movement, Order, Reservation

EPOCH = 1_000_000.0
WEB, SHOP = "web-channel", "shop-channel"
WH1, WH2 = "loc-1", "loc-2"
CONVERGE = 30.0


def op(seq: int, kind: str, t: float, outcome: str = "accepted", **fields: Any) -> dict[str, Any]:
    return {
        "type": "op",
        "seq": seq,
        "kind": kind,
        "t0": t,
        "t1": t + 0.01,
        "outcome": outcome,
        "attempts": [{"server": "api-1"}],
        "errors": [],
        **fields,
    }


def clean_history() -> list[dict[str, Any]]:
    """Receive 2 x HOT; a cart takes one and becomes order W1; the shop sells the other (S1),
    which ships; the shop ends showing the hub's 0."""
    return [
        {
            "type": "setup",
            "t": 0.0,
            "epoch": EPOCH,
            "webstore": WEB,
            "shopify": SHOP,
            "webstore_locations": [WH1],
            "skus": ["HOT"],
        },
        op(1, "receive", 1.0, key="r1", skus=["HOT"], request={"quantity": 2}),
        op(2, "checkout_reserve", 2.0, cart="c1", skus=["HOT"], request={"lines": [["HOT", 1]]}),
        op(
            3,
            "place_order",
            2.1,
            cart="c1",
            order="W1",
            skus=["HOT"],
            request={"lines": [["HOT", 1]]},
            response={"status": "ALLOCATED"},
        ),
        op(
            4,
            "shop_order",
            3.0,
            external="gid://shopify/Order/1",
            skus=["HOT"],
            request={"lines": [["HOT", 1]]},
        ),
        op(
            5,
            "ship",
            5.0,
            order="S1",
            external="gid://shopify/Order/1",
            skus=["HOT"],
            request={"tracking": "T1"},
        ),
        {"type": "phase", "name": "load_end", "t": 6.0},
        {"type": "sample", "t": 7.0, "hub": {"HOT": 1}, "shop": {"HOT": 0}},
        {"type": "sample", "t": 8.0, "hub": {"HOT": 0}, "shop": {"HOT": 0}},
    ]


def mv(n: int, at: float, on_hand: int, reserved: int, reason: str, **fields: Any) -> Movement:
    return Movement(
        f"m{n}",
        fields.pop("sku", "HOT"),
        fields.pop("location", WH1),
        on_hand,
        reserved,
        reason,
        EPOCH + at,
        **fields,
    )


def clean_end() -> EndState:
    return EndState(
        levels=[Level("HOT", WH1, 1, 1)],
        movements=[
            mv(1, 1.0, 2, 0, "receive", key="r1"),
            mv(2, 2.0, 0, 1, "reserve", reference="cart:c1"),
            mv(3, 2.1, 0, -1, "release", reference="cart:c1"),
            mv(4, 2.1, 0, 1, "reserve", reference="order:W1"),
            mv(5, 3.5, 0, 1, "reserve", reference="order:S1"),
            mv(6, 5.0, -1, -1, "commit", reference="order:S1"),
        ],
        orders=[
            Order("W1", WEB, "c1", "allocated", (Line("W1-1", "HOT", 1, "allocated", "R1"),)),
            Order(
                "S1",
                SHOP,
                "gid://shopify/Order/1",
                "shipped",
                (Line("S1-1", "HOT", 1, "shipped", "R2", shipped=1),),
            ),
        ],
        reservations=[
            Reservation("R1", "HOT", WH1, 1, "active", "order:W1"),
            Reservation("R2", "HOT", WH1, 1, "committed", "order:S1"),
        ],
        shipments=[("S1", "T1")],
        shop_orders=["gid://shopify/Order/1"],
        shop_fulfilled={"gid://shopify/Order/1": ["T1"]},
    )


def violations(history: list[dict[str, Any]], end: EndState) -> list[Violation]:
    return check(history, end, converge_within=CONVERGE)


def only(found: list[Violation], rule: str) -> Violation:
    assert [v.rule for v in found] == [rule], [v.render() for v in found]
    return found[0]


def test_a_clean_history_passes_every_rule() -> None:
    found = violations(clean_history(), clean_end())

    assert found == []
    assert by_rule(found) == dict.fromkeys(RULES, 0)


def test_an_accepted_web_order_left_short_is_found_with_its_cart_and_order() -> None:
    end = clean_end()
    end.orders[0] = Order("W1", WEB, "c1", "open", (Line("W1-1", "HOT", 1, "short"),))
    end.reservations = end.reservations[1:]
    end.levels = [Level("HOT", WH1, 1, 0)]
    end.movements = [*end.movements, mv(7, 2.2, 0, -1, "release", reference="order:W1")]

    found = only(violations(clean_history(), end), "webstore_order_held")

    assert found.subject == "order W1"
    assert "HOT x1 short" in found.message
    assert any("checkout_reserve" in line for line in found.trail)
    assert any("place_order" in line for line in found.trail)


def test_more_units_accepted_than_were_there_is_found() -> None:
    history = clean_history()
    extra = [
        op(
            10 + n,
            "place_order",
            4.0 + n / 10,
            cart=f"x{n}",
            order=f"X{n}",
            skus=["HOT"],
            request={"lines": [["HOT", 1]]},
        )
        for n in range(2)
    ]
    end = clean_end()
    end.orders += [Order(f"X{n}", WEB, f"x{n}", "cancelled") for n in range(2)]

    found = violations(history[:4] + extra + history[4:], end)

    assert {v.rule for v in found} == {"webstore_order_held", "webstore_units_within_stock"}
    within = next(v for v in found if v.rule == "webstore_units_within_stock")
    assert within.message == "3 units accepted on the web store, 1 were there"


def test_a_ledger_that_reserves_more_than_on_hand_is_found_at_its_first_point() -> None:
    end = clean_end()
    end.movements.insert(1, mv(10, 1.5, 0, 4, "reserve", reference="order:Z"))
    end.movements.append(mv(11, 9.0, 0, -4, "release", reference="order:Z"))

    found = only(violations(clean_history(), end), "reserved_within_on_hand")

    assert found.message == "after ledger row m10 reserved 4 > on hand 2"
    assert "reserve on_hand+0 reserved+4" in found.trail[-1]


def test_rows_stamped_out_of_commit_order_are_not_a_violation_within_the_window() -> None:
    # The reserve was stamped 0.5 s before the receive it waited for.
    end = EndState(
        levels=[Level("HOT", WH1, 1, 1)],
        movements=[mv(1, 1.0, 0, 1, "reserve"), mv(2, 1.5, 1, 0, "receive")],
    )

    assert reserved_within_on_hand([], end, window=2.0) == []
    assert [v.rule for v in reserved_within_on_hand([], end, window=0.1)] == [
        "reserved_within_on_hand"
    ]


def test_a_level_that_is_not_the_sum_of_its_movements_is_found() -> None:
    end = clean_end()
    end.levels = [Level("HOT", WH1, 2, 1), Level("COLD", WH2, 0, 0)]
    end.movements.append(mv(9, 1.0, 5, 0, "receive", sku="LOST", location=WH2))

    found = violations(clean_history(), end)

    assert [(v.rule, v.subject) for v in found] == [
        ("level_equals_ledger", f"SKU HOT at {WH1}"),
        ("level_equals_ledger", f"SKU LOST at {WH2}"),
    ]
    assert found[0].message == "level on hand 2 reserved 1, ledger 1 / 1"


@pytest.mark.parametrize(
    ("taken", "problem"),
    [
        ([], "created on the shop, never taken by Nexo"),
        (["S1", "S2"], "taken 2 times"),
    ],
)
def test_a_shop_order_missing_or_taken_twice_is_found(taken: list[str], problem: str) -> None:
    end = clean_end()
    shop_order = end.orders[1]
    end.orders = [end.orders[0]] + [dataclasses.replace(shop_order, id=i) for i in taken]
    end.shipments = [(i, "T1") for i in taken]

    found = [v for v in violations(clean_history(), end) if v.rule == "marketplace_order_once"]

    assert [(v.subject, v.message) for v in found] == [
        ("shop order gid://shopify/Order/1", problem)
    ]
    assert any("shop_order" in line for line in found[0].trail)


def test_an_order_nexo_holds_that_the_shop_never_had_is_found() -> None:
    end = clean_end()
    end.orders.append(Order("S9", SHOP, "gid://shopify/Order/9", "allocated"))

    found = only(violations(clean_history(), end), "marketplace_order_once")

    assert found.message == "taken by Nexo, unknown to the shop"


def test_an_accepted_receipt_without_its_ledger_row_is_found() -> None:
    end = clean_end()
    end.movements[0] = dataclasses.replace(end.movements[0], key="another")

    found = only(violations(clean_history(), end), "accepted_not_lost")

    assert (found.subject, found.message) == ("receive r1", "accepted, no ledger row")


def test_a_shipment_that_never_reached_the_shop_is_found() -> None:
    end = clean_end()
    end.shop_fulfilled = {}

    found = only(violations(clean_history(), end), "accepted_not_lost")

    assert found.message == "shipment T1 never reached the shop"
    assert any("ship" in line and "order=S1" in line for line in found.trail)


def test_an_accepted_cancellation_that_did_not_happen_is_found() -> None:
    history = clean_history()
    history.insert(4, op(9, "cancel", 2.5, order="W1", skus=["HOT"], request={}))

    found = only(violations(history, clean_end()), "accepted_not_lost")

    assert found.message == "cancelOrder accepted, the order is allocated"


def test_an_accepted_cancellation_of_a_shipped_order_with_nothing_left_is_not_lost() -> None:
    history = clean_history()
    history.insert(4, op(9, "cancel", 2.5, order="S1", skus=["HOT"], request={}))

    found = violations(history, clean_end())

    assert [v for v in found if v.rule == "accepted_not_lost"] == []


def test_a_dead_outbound_update_is_found() -> None:
    end = clean_end()
    end.dead_outbox = [("quantity", "HOT", "503 after 10 attempts")]

    found = only(violations(clean_history(), end), "accepted_not_lost")

    assert found.subject == "outbound quantity HOT"


def test_a_shop_that_never_shows_the_hubs_figure_is_found() -> None:
    history = [
        *clean_history()[:-1],
        {"type": "sample", "t": 20.0, "hub": {"HOT": 0}, "shop": {"HOT": 1}},
        # Agreeing, but only after the deadline.
        {"type": "sample", "t": 6.0 + CONVERGE + 1, "hub": {"HOT": 0}, "shop": {"HOT": 0}},
    ]

    found = only(violations(history, clean_end()), "channel_converges")

    assert found.subject == "SKU HOT"
    assert "the hub offers the shop 0, the shop shows 1" in found.message
    assert any("sample: hub 0, shop 1" in line for line in found.trail)


def test_a_channel_edit_nobody_made_on_the_shop_is_found() -> None:
    end = clean_end()
    end.levels = [Level("HOT", WH1, 3, 1)]
    end.movements.append(mv(8, 5.5, 2, 0, "channel_edit", detail="edited on Shopify: 0 -> 2"))

    found = only(violations(clean_history(), end), "no_phantom_edit")

    assert found.message == "1 channel edits (+2 on hand) while nobody edited the shop"
    assert "edited on Shopify: 0 -> 2" in found.trail[-1]


AMAZON, EBAY = "amazon-channel", "ebay-channel"


def with_marketplaces(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clean history on a stage with Amazon and eBay beside the shop, both agreeing."""
    setup = {**history[0], "channels": {"shopify": SHOP, "amazon": AMAZON, "ebay": EBAY}}
    samples = [
        {"type": "sample", "t": 8.0, "channel": kind, "hub": {"HOT": 0}, "shop": {"HOT": 0}}
        for kind in ("amazon", "ebay")
    ]
    return [setup, *history[1:], *samples]


def test_an_amazon_order_never_taken_or_taken_twice_is_found_by_its_marketplace() -> None:
    history = with_marketplaces(clean_history())
    history.insert(5, op(10, "shop_order", 3.2, channel="amazon", external="111-1",
                         skus=["HOT"], request={"lines": [["HOT", 1]]}))  # fmt: skip
    end = clean_end()
    end.marketplace_orders = {"amazon": ["111-1"], "ebay": ["12-1"]}
    end.orders += [Order("E1", EBAY, "12-1", "allocated"), Order("E2", EBAY, "12-1", "allocated")]

    found = [v for v in violations(history, end) if v.rule == "marketplace_order_once"]

    assert [(v.subject, v.message) for v in found] == [
        ("amazon order 111-1", "created on amazon, never taken by Nexo"),
        ("ebay order 12-1", "taken 2 times"),
    ]
    assert any("shop_order" in line and "111-1" in line for line in found[0].trail)


def test_a_marketplace_that_never_shows_the_hubs_figure_is_found_by_its_name() -> None:
    history = with_marketplaces(clean_history())
    history.append(
        {"type": "sample", "t": 9.0, "channel": "amazon", "hub": {"HOT": 0}, "shop": {"HOT": 2}}
    )
    history = [r for r in history if not (r.get("channel") == "amazon" and r["t"] == 8.0)]

    found = only(violations(history, clean_end()), "channel_converges")

    assert found.subject == "amazon SKU HOT"
    assert "the hub offers amazon 0, amazon shows 2" in found.message


def test_an_ebay_figure_held_back_by_its_revision_cap_is_not_a_divergence() -> None:
    history = with_marketplaces(clean_history())
    history = [r for r in history if r.get("channel") != "ebay"]
    history.append(
        {"type": "sample", "t": 9.0, "channel": "ebay", "hub": {"HOT": 0}, "shop": {"HOT": 2}}
    )
    end = clean_end()
    # Deferred (no attempt spent) until eBay grants the listing a revision: within its floor.
    end.outbox = [["quantity", "HOT", "retry", 0, None, EBAY, EPOCH + 9.0 + 300]]

    assert violations(history, end) == []

    end.outbox[0][6] = EPOCH + 9.0 + 3600  # later than any revision cap explains
    assert only(violations(history, end), "channel_converges").subject == "ebay SKU HOT"


def test_a_shipment_that_never_reached_its_marketplace_is_found_by_its_name() -> None:
    history = with_marketplaces(clean_history())
    history.append(op(11, "ship", 5.5, order="E1", external="12-1", channel="ebay",
                      skus=["HOT"], request={"tracking": "T2"}))  # fmt: skip
    end = clean_end()
    end.orders.append(Order("E1", EBAY, "12-1", "shipped"))
    end.shipments.append(("E1", "T2"))
    end.marketplace_orders = {"ebay": ["12-1"]}
    end.marketplace_fulfilled = {"ebay": {"12-1": []}}

    found = only(violations(history, end), "accepted_not_lost")

    assert found.message == "shipment T2 never reached ebay"

    end.marketplace_fulfilled = {"ebay": {"12-1": ["T2"]}}
    assert violations(history, end) == []
