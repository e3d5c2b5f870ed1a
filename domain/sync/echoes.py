"""Nexo's own pushes coming back: a figure a channel reports that Nexo sent it is an echo.

A shop reports every change of its stock figure, Nexo's pushes included, and its reports can
come late (after later pushes were confirmed) or after a crash lost the push's outcome. So
each quantity push is recorded before it goes out, and a reported figure is compared with
every figure sent and not yet heard back, never with the last confirmed figure alone: one
that matches is Nexo's push (it changes no stock), only one that matches none is an edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# A figure heard back is forgotten at once (a shop reports each change once); one never heard
# back is kept this long after a later figure was confirmed, for a report delivered late.
ECHO_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Sent:
    """A quantity Nexo sent a channel for one SKU, recorded before the call went out."""

    id: uuid.UUID
    quantity: int
    pushed_at: datetime


def echo_of(reported: int, sent: Sequence[Sent]) -> Sent | None:
    """The push a reported figure echoes: the oldest one of that figure not yet heard back
    (a shop reports its changes in the order it made them)."""
    matching = [s for s in sent if s.quantity == reported]
    return min(matching, key=lambda s: s.pushed_at, default=None)


def shown_after(
    reported: int, confirmed: int | None, confirmed_at: datetime | None, echo: Sent | None
) -> int:
    """The figure the channel is known to show once `reported` is taken in: the reported one,
    unless it echoes a push older than the figure confirmed since (a later push, an edit or
    a read made after it was sent), which is the newer of the two and stays."""
    late = echo is not None and confirmed_at is not None and confirmed_at > echo.pushed_at
    return confirmed if late and confirmed is not None else reported
