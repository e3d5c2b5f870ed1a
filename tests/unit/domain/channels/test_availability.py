"""Channel availability: properties of the pure function, and worked examples, step by step."""

from __future__ import annotations

import dataclasses
import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.channels.availability import (
    AvailabilityRule,
    ChannelAvailability,
    Step,
    channel_availability,
    effective_rule,
)

# A few fixed locations: names sort as L0 < L1 < ... so the explanation order is predictable.
LOCATIONS = [uuid.UUID(int=i + 1) for i in range(4)]
NAMES = {loc: f"L{i}" for i, loc in enumerate(LOCATIONS)}

quantities = st.integers(min_value=-5, max_value=10_000)  # negative: tolerated, counts as 0
stock = st.dictionaries(st.sampled_from(LOCATIONS), quantities, max_size=len(LOCATIONS))
buffers = st.integers(min_value=0, max_value=500)
percents = st.integers(min_value=0, max_value=100)
maxima = st.integers(min_value=0, max_value=2_000)
thresholds = st.integers(min_value=0, max_value=500)

# A channel's own rule is complete (as create_channel stores it); overrides may leave fields
# as None ("as the channel says").
channel_rules = st.builds(
    AvailabilityRule,
    buffer_quantity=buffers,
    allocation_percent=percents,
    max_quantity=st.none() | maxima,
    end_when_below=thresholds,
    blocked=st.just(False),
)
override_rules = st.none() | st.builds(
    AvailabilityRule,
    buffer_quantity=st.none() | buffers,
    allocation_percent=st.none() | percents,
    max_quantity=st.none() | maxima,
    end_when_below=st.none() | thresholds,
    blocked=st.booleans(),
)


def compute(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None = None,
) -> ChannelAvailability:
    return channel_availability(available, NAMES, channel, override)


@given(available=stock, channel=channel_rules, override=override_rules)
def test_never_negative_and_never_above_the_available_sum(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    result = compute(available, channel, override)
    assert result.quantity >= 0
    assert result.quantity <= sum(max(units, 0) for units in available.values())


@given(available=stock, channel=channel_rules, override=override_rules)
def test_never_above_the_maximum_when_one_is_set(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    rule = effective_rule(channel, override)
    result = compute(available, channel, override)
    if rule.max_quantity is not None:
        assert result.quantity <= rule.max_quantity


@given(available=stock, channel=channel_rules, override=override_rules)
def test_end_when_below_publishes_zero_at_or_below_the_threshold(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    rule = effective_rule(channel, override)
    # The same rule without the threshold: what the quantity "would be".
    without = compute(available, dataclasses.replace(rule, end_when_below=0))
    result = compute(available, channel, override)
    threshold = rule.end_when_below or 0
    if threshold > 0 and without.quantity <= threshold:
        assert result.quantity == 0
    else:
        assert result.quantity == without.quantity
    if result.quantity > 0:
        assert result.quantity > threshold
    # Right at the boundary: a threshold equal to the quantity ends it, one below does not.
    if without.quantity > 0:
        at = compute(available, dataclasses.replace(rule, end_when_below=without.quantity))
        assert at.quantity == 0
    if without.quantity > 1:
        below = dataclasses.replace(rule, end_when_below=without.quantity - 1)
        assert compute(available, below).quantity == without.quantity


@given(
    available=stock,
    location=st.sampled_from(LOCATIONS),
    more=st.integers(min_value=0, max_value=5_000),
    channel=channel_rules,
    override=override_rules,
)
def test_monotone_in_the_stock_of_any_one_location(
    available: dict[uuid.UUID, int],
    location: uuid.UUID,
    more: int,
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    before = compute(available, channel, override)
    raised = {**available, location: available.get(location, 0) + more}
    after = compute(raised, channel, override)
    assert after.quantity >= before.quantity


@given(available=stock, channel=channel_rules, override=override_rules)
def test_blocked_publishes_zero(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    blocked_override = dataclasses.replace(override or AvailabilityRule(), blocked=True)
    result = compute(available, channel, blocked_override)
    assert result.quantity == 0
    assert [s.value for s in result.explanation] == [0]
    assert "blocked" in result.explanation[0].step
    # A blocked channel rule blocks too, whatever the override says.
    assert compute(available, dataclasses.replace(channel, blocked=True), override).quantity == 0


@given(channel=channel_rules, override=override_rules)
def test_an_override_set_fields_win_over_the_channel(
    channel: AvailabilityRule, override: AvailabilityRule | None
) -> None:
    rule = effective_rule(channel, override)
    if override is None:
        assert rule == channel
        return
    for name in ("buffer_quantity", "allocation_percent", "max_quantity", "end_when_below"):
        own = getattr(override, name)
        assert getattr(rule, name) == (own if own is not None else getattr(channel, name)), name
    assert rule.blocked == (override.blocked or channel.blocked)


@given(available=stock, channel=channel_rules, override=override_rules)
def test_the_override_is_applied_as_the_effective_rule(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    assert compute(available, channel, override) == compute(
        available, effective_rule(channel, override)
    )


@given(available=stock, channel=channel_rules, override=override_rules)
def test_the_explanation_ends_with_the_published_quantity(
    available: dict[uuid.UUID, int],
    channel: AvailabilityRule,
    override: AvailabilityRule | None,
) -> None:
    result = compute(available, channel, override)
    assert result.explanation
    assert result.explanation[-1].value == result.quantity
    if not effective_rule(channel, override).blocked:
        # One line per location (in name order, negatives as 0), then their sum.
        per_location = result.explanation[: len(available)]
        ordered = sorted(available, key=lambda loc: NAMES[loc])
        assert [s.step for s in per_location] == [f"available at {NAMES[x]}" for x in ordered]
        assert [s.value for s in per_location] == [max(available[x], 0) for x in ordered]
        assert result.explanation[len(available)] == Step(
            "sum over the channel's locations", sum(max(u, 0) for u in available.values())
        )


def test_worked_example_allocation_buffer_and_cap() -> None:
    warehouse, store = LOCATIONS[0], LOCATIONS[1]
    result = channel_availability(
        {store: 7, warehouse: 30},
        {warehouse: "WH1", store: "ST1"},
        AvailabilityRule(
            buffer_quantity=2, allocation_percent=50, max_quantity=10, end_when_below=0
        ),
    )
    assert result.quantity == 10
    assert result.explanation == [
        Step("available at ST1", 7),
        Step("available at WH1", 30),
        Step("sum over the channel's locations", 37),
        Step("allocation 50% (rounded down)", 18),
        Step("minus safety buffer of 2 (not below 0)", 16),
        Step("capped at the maximum of 10", 10),
        Step("published quantity", 10),
    ]


def test_worked_example_override_and_end_when_below() -> None:
    warehouse, store = LOCATIONS[0], LOCATIONS[1]
    channel = AvailabilityRule(
        buffer_quantity=0, allocation_percent=100, max_quantity=None, end_when_below=0
    )
    override = AvailabilityRule(buffer_quantity=1, end_when_below=3)
    result = channel_availability(
        {warehouse: 3, store: -2}, {warehouse: "WH1", store: "ST1"}, channel, override
    )
    assert result.quantity == 0
    assert result.explanation == [
        Step("available at ST1", 0),
        Step("available at WH1", 3),
        Step("sum over the channel's locations", 3),
        Step("allocation 100% (rounded down)", 3),
        Step("minus safety buffer of 1 (not below 0)", 2),
        Step("at or below the end-when threshold of 3: publish 0", 0),
        Step("published quantity", 0),
    ]
    # One more unit lifts it above the threshold: 4 - 1 = 3 is still "at", 5 - 1 = 4 is above.
    assert channel_availability({warehouse: 4}, NAMES, channel, override).quantity == 0
    assert channel_availability({warehouse: 5}, NAMES, channel, override).quantity == 4


def test_worked_example_blocked_and_no_locations() -> None:
    blocked = channel_availability(
        {LOCATIONS[0]: 9}, NAMES, AvailabilityRule(), AvailabilityRule(blocked=True)
    )
    assert blocked == ChannelAvailability(
        0, [Step("blocked for this SKU on this channel: never listed", 0)]
    )
    empty = channel_availability({}, {}, AvailabilityRule())
    assert empty.quantity == 0
    assert empty.explanation == [
        Step("sum over the channel's locations", 0),
        Step("allocation 100% (rounded down)", 0),
        Step("minus safety buffer of 0 (not below 0)", 0),
        Step("published quantity", 0),
    ]
