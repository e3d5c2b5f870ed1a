"""Channel availability: the quantity the hub publishes for a SKU on a channel, explained.

A pure function of its inputs. Every step that changes (or could change) the number is
recorded, so any published quantity can be traced back to the stock and rules behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AvailabilityRule:
    """A channel's rule; in a per-SKU override, None means "as the channel says"."""

    buffer_quantity: int | None = None
    allocation_percent: int | None = None
    max_quantity: int | None = None
    end_when_below: int | None = None
    blocked: bool = False


CHANNEL_DEFAULTS = AvailabilityRule(
    buffer_quantity=0, allocation_percent=100, max_quantity=None, end_when_below=0
)


@dataclass(frozen=True, slots=True)
class Step:
    step: str
    value: int


@dataclass(frozen=True, slots=True)
class ChannelAvailability:
    quantity: int
    explanation: list[Step] = field(default_factory=list)


def effective_rule(
    channel: AvailabilityRule, override: AvailabilityRule | None
) -> AvailabilityRule:
    """The channel's rule with a per-SKU override's set fields on top."""
    if override is None:
        return channel

    def pick(own: int | None, base: int | None) -> int | None:
        return own if own is not None else base

    return AvailabilityRule(
        buffer_quantity=pick(override.buffer_quantity, channel.buffer_quantity),
        allocation_percent=pick(override.allocation_percent, channel.allocation_percent),
        max_quantity=pick(override.max_quantity, channel.max_quantity),
        end_when_below=pick(override.end_when_below, channel.end_when_below),
        blocked=override.blocked or channel.blocked,
    )


def channel_availability(
    available_by_location: Mapping[uuid.UUID, int],
    location_names: Mapping[uuid.UUID, str],
    channel: AvailabilityRule,
    override: AvailabilityRule | None = None,
) -> ChannelAvailability:
    """Sum the channel's locations, allocate, buffer, cap, end below the threshold.

    `available_by_location` holds the channel's feeding locations only; negative
    availability at one location (not possible while the invariant holds) counts as zero.
    """
    rule = effective_rule(channel, override)
    steps: list[Step] = []
    if rule.blocked:
        steps.append(Step("blocked for this SKU on this channel: never listed", 0))
        return ChannelAvailability(0, steps)

    total = 0
    for location_id in sorted(available_by_location, key=lambda i: location_names.get(i, str(i))):
        units = max(available_by_location[location_id], 0)
        total += units
        steps.append(Step(f"available at {location_names.get(location_id, location_id)}", units))
    steps.append(Step("sum over the channel's locations", total))

    percent = rule.allocation_percent if rule.allocation_percent is not None else 100
    quantity = total * percent // 100
    steps.append(Step(f"allocation {percent}% (rounded down)", quantity))

    buffer = rule.buffer_quantity or 0
    quantity = max(quantity - buffer, 0)
    steps.append(Step(f"minus safety buffer of {buffer} (not below 0)", quantity))

    if rule.max_quantity is not None and quantity > rule.max_quantity:
        quantity = rule.max_quantity
        steps.append(Step(f"capped at the maximum of {rule.max_quantity}", quantity))

    end_when = rule.end_when_below or 0
    if end_when > 0 and quantity <= end_when:
        quantity = 0
        steps.append(Step(f"at or below the end-when threshold of {end_when}: publish 0", 0))

    steps.append(Step("published quantity", quantity))
    return ChannelAvailability(quantity, steps)
