"""The replay window: how old a signed delivery may be, by the time its channel signed.

A signature proves who sent a delivery, not when: a captured one verifies forever. A
channel that signs its send time (see `SignedSendTime`) lets the hub refuse a delivery sent
longer ago than the window, and one stamped further ahead than the clocks can disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    """How long after it was sent a delivery is taken in (`past`), and how far ahead of the
    hub's clock its send time may be (`skew`: the channel's clock runs fast)."""

    past: timedelta
    skew: timedelta

    def refusal(self, sent_at: datetime | None, now: datetime) -> str | None:
        """Why a delivery sent at `sent_at` is refused at `now`; None when it is taken in.

        Both edges are inside: sent exactly `past` ago, or exactly `skew` ahead, is taken.
        """
        if sent_at is None:
            return "no signed send time"
        age = now - sent_at
        if age > self.past:
            window = self.past.total_seconds()
            return f"sent {age.total_seconds():.0f} s ago, past the {window:.0f} s replay window"
        if -age > self.skew:
            ahead = (-age).total_seconds()
            return f"sent {ahead:.0f} s ahead of the hub's clock, past the skew allowed"
        return None
