"""Stockout time per channel and SKU from the spells at 0, clipped by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.analytics.stockouts import Spell, Stockout, stockouts

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SHOP, MARKET = uuid.UUID(int=1), uuid.UUID(int=2)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_spells_are_clipped_to_the_span_and_to_now() -> None:
    spells = [
        Spell(SHOP, "A", at(-2), at(1)),  # 1 h inside [0, 10)
        Spell(SHOP, "A", at(3), at(5)),  # 2 h
        Spell(SHOP, "A", at(8), None),  # open: up to now (9 h), 1 h
        Spell(SHOP, "B", at(-5), at(-1)),  # before the span: left out
        Spell(MARKET, "A", at(4), at(4.5)),  # 30 min
        Spell(MARKET, "B", at(9.5), None),  # open, starts after now: nothing yet
    ]

    found = stockouts(spells, at(0), at(10), now=at(9))

    assert found == [
        Stockout(SHOP, "A", spells=3, seconds=4 * 3600, out_now=True),
        Stockout(MARKET, "A", spells=1, seconds=1800, out_now=False),
    ]


def test_an_open_spell_counts_up_to_the_end_of_a_past_span() -> None:
    found = stockouts([Spell(SHOP, "A", at(1), None)], at(0), at(2), now=at(50))
    assert found == [Stockout(SHOP, "A", 1, 3600, True)]
