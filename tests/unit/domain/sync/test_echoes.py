"""Echoes without I/O: a figure the hub sent, reported back, is never an edit, and a late one
never takes the channel's figure back to an older one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.channels.policies import StockEditPolicy
from domain.sync.echoes import Sent, echo_of, shown_after
from domain.sync.stock_edits import EditAction, decide

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
counts = st.integers(min_value=0, max_value=10_000)


def sent(quantity: int, seconds: float) -> Sent:
    return Sent(uuid.uuid4(), quantity, T0 + timedelta(seconds=seconds))


def test_a_reported_figure_echoes_the_oldest_push_of_it_not_heard_back() -> None:
    first, other, again = sent(10, 1), sent(11, 2), sent(10, 3)
    assert echo_of(10, [again, other, first]) == first
    assert echo_of(12, [first, other, again]) is None


@given(counts, counts, st.none() | counts)
def test_accepting_edits_an_echo_changes_no_stock_and_the_hubs_number_goes_back(
    reported: int, publishes: int, confirmed: int | None
) -> None:
    decision = decide(
        StockEditPolicy.ACCEPT_CHANNEL_EDITS,
        reported=reported, publishes=publishes, confirmed=confirmed, echo=True,
    )  # fmt: skip
    assert decision.delta == 0
    assert decision.action in (EditAction.IN_STEP, EditAction.PUSH_BACK)
    assert decision.action is EditAction.IN_STEP or decision.echo


@given(counts, counts, st.none() | counts)
def test_under_hub_wins_an_echo_is_decided_as_any_other_figure(
    reported: int, publishes: int, confirmed: int | None
) -> None:
    policy = StockEditPolicy.HUB_WINS
    assert decide(
        policy, reported=reported, publishes=publishes, confirmed=confirmed, echo=True
    ) == decide(policy, reported=reported, publishes=publishes, confirmed=confirmed)


def test_the_echo_of_the_issue_is_not_an_edit_of_minus_eight() -> None:
    # The shop confirmed 19; its late report of an earlier push of 11 comes in.
    accept = StockEditPolicy.ACCEPT_CHANNEL_EDITS
    assert decide(accept, reported=11, publishes=19, confirmed=19).delta == -8  # the defect
    echoed = decide(accept, reported=11, publishes=19, confirmed=19, echo=True)
    assert (echoed.action, echoed.delta) == (EditAction.PUSH_BACK, 0)
    assert echoed.drift == "channel showed 11, hub publishes 19 (an echo of Nexo's push)"


def test_an_echo_of_a_push_nothing_confirmed_since_is_what_the_channel_shows() -> None:
    push = sent(10, 5)
    assert shown_after(10, 9, T0, push) == 10  # e.g. the push's answer was lost in a crash
    assert shown_after(10, None, None, push) == 10


def test_a_late_echo_leaves_the_figure_confirmed_after_its_push_went_out() -> None:
    push = sent(10, 5)
    assert shown_after(10, 19, T0 + timedelta(seconds=6), push) == 19


def test_a_figure_nexo_never_sent_is_what_the_channel_shows() -> None:
    assert shown_after(15, 10, T0 + timedelta(seconds=6), None) == 15
