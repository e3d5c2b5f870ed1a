"""A lowered figure reconciliation finds: seen once, decided once the channel's orders are in.

A figure a channel shows below what Nexo expects is a merchant's edit, or a sale whose order
Nexo has not taken in yet (its webhook was lost: the order comes by the pull). Taken for an
edit at once, such a sale would count twice. So the run that first sees the figure records
it (a sighting) and asks for a pull; a later run that reads the same figure, drifted from the
same confirmed one, decides it once a pull that started after the sighting has read to the
end. The sales since the confirmed figure then explain the drop (their orders are in), and
only what they do not explain is the merchant's edit. A different figure is a new sighting;
pulls that keep failing hold a figure `PULL_WAIT_LIMIT` at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from domain.channels.listing import DriftSighting, ListingItem
from domain.orders.pull import PULL_WAIT_LIMIT

# A figure still waiting is read again this soon, then less often the longer its pull takes.
RECHECK = timedelta(seconds=3)
RECHECK_MAX = timedelta(seconds=30)
# Sales placed up to this long before the channel's figure was confirmed are counted as after
# it too: a figure is recorded after it was shown (a held stock report is decided after its
# hold, a call answers late) and the channel's order times are whole seconds. Counting a sale
# too many hides that much of a merchant's drop under it; one too few would count it twice.
SALE_SLACK = timedelta(seconds=60)

Verdict = Literal["waiting", "pulled", "unpulled"]


def sighted(item: ListingItem, reported: int, seen_at: datetime) -> DriftSighting:
    """The sighting of `reported`: the item's own if it is of that figure and drifted from the
    figure still confirmed (it waits from when it was first seen), else a new one."""
    known = item.sighting
    if (
        known is not None
        and known.quantity == reported
        and known.drifted_from == item.confirmed_quantity
    ):
        return known
    return DriftSighting(reported, item.confirmed_quantity, item.confirmed_at, seen_at)


def decidable(sighting: DriftSighting, pulled: datetime | None, now: datetime) -> Verdict:
    """Whether the channel's orders behind the sighted figure are in: a pull that started
    after it was seen read to the end ("pulled"), or pulls failed so long that it is decided
    without them ("unpulled"); else it is still "waiting"."""
    if pulled is not None and pulled >= sighting.seen_at:
        return "pulled"
    if now >= sighting.seen_at + PULL_WAIT_LIMIT:
        return "unpulled"
    return "waiting"


def read_again_at(sighting: DriftSighting, now: datetime) -> datetime:
    """When a figure still waiting is read again: soon after its pull was asked for, less
    often the longer the pull takes (a channel whose pulls fail is not read every few seconds
    for ten minutes), and at the latest when the wait is over."""
    step = min(max(RECHECK, (now - sighting.seen_at) / 2), RECHECK_MAX)
    return min(now + step, sighting.seen_at + PULL_WAIT_LIMIT)


def sales_since(confirmed_at: datetime) -> datetime:
    """From when the channel's sales count as made after its figure confirmed at `confirmed_at`
    (the channel's order times are whole seconds)."""
    return (confirmed_at - SALE_SLACK).replace(microsecond=0)


def unexplained(delta: int, sold: int) -> int:
    """What of the channel's change `delta` the `sold` units since do not explain: a drop less
    those sales (never past zero); a rise, whole."""
    return delta if delta >= 0 else min(delta + sold, 0)
