"""What channel clients share about their calls: the outcome each logs for a failure, its
count for `/metrics`, and the batches a port cuts a push into."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, TypeVar

from adapters.metrics import observe_channel_call
from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
)

T = TypeVar("T")

# The `outcome` of a `channel.call` log event, by the failure the call raised.
OUTCOMES: Final[dict[type[ChannelFailure], str]] = {
    ChannelThrottled: "throttled",
    ChannelUnavailable: "unavailable",
    ChannelRejected: "rejected",
    ChannelMisconfigured: "misconfigured",
}


def outcome(failure: ChannelFailure) -> str:
    return OUTCOMES.get(type(failure), "failed")


def record(channel: str, outcome: str, seconds: float) -> None:
    """Count one call (its latency after the rate limit's wait) for `/metrics`."""
    observe_channel_call(channel, outcome, seconds)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
