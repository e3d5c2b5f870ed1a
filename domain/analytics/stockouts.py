"""Stockouts per channel: how long each channel showed each SKU at 0 over a span.

From the spells storage keeps (a spell opens when a channel's confirmed quantity of a SKU is
recorded at 0, and closes at the first one above): each spell is clipped to the span, and
to now while it is open. What a channel shows is what it confirmed to the hub, so a spell
starts when the channel's confirmation was recorded, not when a buyer first saw 0, and a
channel that stopped answering keeps the last figure it confirmed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.analytics.channels import check_span
from domain.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Spell:
    """A channel showed the SKU at 0 from `started_at` until `ended_at` (None: still does)."""

    channel_id: uuid.UUID
    sku: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class Stockout:
    channel_id: uuid.UUID
    sku: str
    spells: int  # spells at 0 that overlap the span
    seconds: int  # time at 0 within the span (up to now)
    out_now: bool  # the last spell is still open


def stockouts(
    spells: Iterable[Spell], start: datetime, end: datetime, now: datetime
) -> list[Stockout]:
    """Per channel and SKU, the spells' time within [start, min(end, now)); longest first,
    then by channel and SKU."""
    until = min(end, now)
    found: dict[tuple[uuid.UUID, str], Stockout] = {}
    for s in spells:
        ended = s.ended_at or now
        seconds = (min(ended, until) - max(s.started_at, start)).total_seconds()
        if s.started_at >= end or ended <= start or seconds < 0:
            continue
        key = (s.channel_id, s.sku)
        before = found.get(key, Stockout(s.channel_id, s.sku, 0, 0, False))
        found[key] = Stockout(
            s.channel_id, s.sku, before.spells + 1, before.seconds + int(seconds),
            before.out_now or s.ended_at is None,
        )  # fmt: skip
    return sorted(found.values(), key=lambda o: (-o.seconds, str(o.channel_id), o.sku))


async def stockout_report(
    uows: UnitOfWorkFactory, start: datetime, end: datetime, now: datetime
) -> list[Stockout]:
    check_span(start, end)
    async with uows(readonly=True) as uow:
        spells = await uow.sales.stockout_spells(start, end)
    return stockouts(spells, start, end, now)
