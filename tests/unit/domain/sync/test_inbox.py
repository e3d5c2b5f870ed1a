"""Inbound events without I/O: what a stock edit makes the hub do, which SKU an event names,
and how its bytes are kept."""

from __future__ import annotations

import json
from collections.abc import Mapping

from hypothesis import given
from hypothesis import strategies as st

from domain.channels.policies import StockEditPolicy
from domain.sync.inbox_model import payload_text
from domain.sync.stock_edits import EditAction, decide, skus_matching

HUB_WINS = StockEditPolicy.HUB_WINS
ACCEPT = StockEditPolicy.ACCEPT_CHANNEL_EDITS

counts = st.integers(min_value=0, max_value=10_000)
policies = st.sampled_from(list(StockEditPolicy))


# What the hub does


@given(policies, counts, st.none() | counts)
def test_a_channel_showing_what_the_hub_publishes_is_in_step(
    policy: StockEditPolicy, publishes: int, confirmed: int | None
) -> None:
    decision = decide(policy, reported=publishes, publishes=publishes, confirmed=confirmed)
    assert decision.action is EditAction.IN_STEP
    assert decision.delta == 0


@given(counts, counts, st.none() | counts)
def test_under_hub_wins_any_other_figure_is_pushed_back(
    reported: int, publishes: int, confirmed: int | None
) -> None:
    decision = decide(HUB_WINS, reported=reported, publishes=publishes, confirmed=confirmed)
    expected = EditAction.IN_STEP if reported == publishes else EditAction.PUSH_BACK
    assert decision.action is expected
    assert decision.delta == 0


def test_the_drift_reads_as_the_sync_log_shows_it() -> None:
    decision = decide(HUB_WINS, reported=3, publishes=10, confirmed=10)
    assert decision.drift == "channel showed 3, hub publishes 10"


def test_an_accepted_edit_is_the_change_from_what_the_channel_last_confirmed() -> None:
    # Nexo set 10; the merchant typed 13 on the channel: three more units.
    decision = decide(ACCEPT, reported=13, publishes=10, confirmed=10)
    assert (decision.action, decision.delta) == (EditAction.APPLY, 3)


def test_an_accepted_edit_counts_from_the_channels_figure_not_the_hubs_newer_one() -> None:
    # The hub now publishes 7, not yet sent; the channel still showed 5 when the merchant
    # typed 6: one unit more, not one less.
    decision = decide(ACCEPT, reported=6, publishes=7, confirmed=5)
    assert (decision.action, decision.delta) == (EditAction.APPLY, 1)


def test_an_accepted_edit_on_a_sku_never_confirmed_counts_from_what_the_hub_publishes() -> None:
    decision = decide(ACCEPT, reported=2, publishes=5, confirmed=None)
    assert (decision.action, decision.delta) == (EditAction.APPLY, -3)


def test_a_channel_merely_lagging_behind_the_hub_is_pushed_back_even_when_accepting() -> None:
    # The channel reports the figure it last confirmed: no edit, just an old number.
    decision = decide(ACCEPT, reported=5, publishes=7, confirmed=5)
    assert (decision.action, decision.delta) == (EditAction.PUSH_BACK, 0)


@given(counts, counts, st.none() | counts)
def test_accepting_applies_exactly_what_moves_the_channel_from_its_last_figure(
    reported: int, publishes: int, confirmed: int | None
) -> None:
    decision = decide(ACCEPT, reported=reported, publishes=publishes, confirmed=confirmed)
    baseline = publishes if confirmed is None else confirmed
    if decision.action is EditAction.APPLY:
        assert decision.delta != 0
        assert baseline + decision.delta == reported
    else:
        assert decision.delta == 0
        assert reported in (publishes, baseline)


# Which SKU an event names

LISTED: Mapping[str, Mapping[str, str]] = {
    "TEE-S": {"variant_id": "gid://V/1", "inventory_item_id": "gid://I/1"},
    "TEE-M": {"variant_id": "gid://V/2", "inventory_item_id": "gid://I/2"},
}


def test_a_sku_is_found_by_one_of_its_ids_and_ids_it_lacks_are_ignored() -> None:
    refs = {"inventory_item_id": "gid://I/2", "location_id": "gid://L/1"}
    assert skus_matching(refs, LISTED) == ["TEE-M"]


def test_an_id_no_listed_sku_has_matches_nothing() -> None:
    assert skus_matching({"inventory_item_id": "gid://I/9"}, LISTED) == []
    assert skus_matching({"location_id": "gid://L/1"}, LISTED) == []


def test_a_sku_whose_other_shared_id_disagrees_does_not_match() -> None:
    refs = {"inventory_item_id": "gid://I/1", "variant_id": "gid://V/2"}
    assert skus_matching(refs, LISTED) == []


def test_two_skus_with_the_same_id_are_both_named_so_the_event_is_ambiguous() -> None:
    listed = {**LISTED, "TEE-M-OLD": {"inventory_item_id": "gid://I/2"}}
    assert skus_matching({"inventory_item_id": "gid://I/2"}, listed) == ["TEE-M", "TEE-M-OLD"]


# Keeping the bytes


text = st.text(st.characters(exclude_categories=["Cs"]))  # what UTF-8 can encode
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)


@given(documents)
def test_a_json_payload_is_kept_byte_for_byte(document: object) -> None:
    body = json.dumps(document, ensure_ascii=False).encode()
    assert payload_text(body).encode() == body


def test_bytes_that_are_not_utf8_stay_visible_and_unreadable_as_json() -> None:
    text = payload_text(b'{"a": "\xff"}')
    assert text == '{"a": "\\xff"}'
    assert "\x00" not in payload_text(b"{\x00}")
