"""What the reports read from storage: sums, grouped where the data is."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from domain.analytics.channels import CallStats, ConflictCount
from domain.analytics.conversion import DayCount
from domain.analytics.sales import FeeSums, LineSums, OrderCounts, SalesQuery
from domain.analytics.stockouts import Spell
from domain.catalog.rate_history import Segment


class SalesRepository(Protocol):
    async def sums(
        self, query: SalesQuery, rates: Mapping[str, Sequence[Segment]]
    ) -> tuple[list[LineSums], list[FeeSums], list[OrderCounts]]:
        """The report's sums, as `line_sums`, `fee_sums` and `order_counts` give them, read
        where they are quickest: for whole days of a report by channel or SKU (and time), the
        sales rollup; the rest from the lines, fees and orders."""
        ...

    async def line_sums(
        self, query: SalesQuery, rates: Mapping[str, Sequence[Segment]]
    ) -> list[LineSums]:
        """Sums of the lines of orders placed in the query's span per its stored dimensions
        (and UTC day, when grouped by time), money in its currency: each day's sum converted
        at that day's factor (`rates`: every convertible currency's stretches); a sum in a
        currency `rates` lacks is refused (InvalidInput naming it)."""
        ...

    async def fee_sums(
        self, query: SalesQuery, rates: Mapping[str, Sequence[Segment]]
    ) -> list[FeeSums]: ...

    async def order_counts(self, query: SalesQuery) -> list[OrderCounts]:
        """Orders (and cancelled ones) per stored dimensions and day; an order counts once in
        each group one of its lines is in."""
        ...

    async def compact_rollup(self, limit: int) -> int:
        """Fold up to `limit` rows the order book appended to the sales rollup into one row
        per key (the report's figures unchanged); how many were folded."""
        ...

    async def units_kept(self, start: datetime, end: datetime) -> dict[str, int]:
        """Units kept by buyers per SKU, of orders placed in [start, end)."""
        ...

    async def available(self) -> dict[str, int]:
        """Every SKU's units available now (on hand less reserved, sellable locations)."""
        ...

    async def conflicts(self, start: datetime, end: datetime) -> list[ConflictCount]:
        """Conflicts recorded in [start, end) per channel, policy and the line's status now."""
        ...

    async def calls(self, start: datetime, end: datetime) -> list[CallStats]:
        """The sync log's calls in [start, end) per channel."""
        ...

    async def stockout_spells(self, start: datetime, end: datetime) -> list[Spell]:
        """The spells channels showed a SKU at 0 that overlap [start, end) (open ones too)."""
        ...

    async def record_views(
        self, channel_id: uuid.UUID, day: date, views: Mapping[str, int], at: datetime
    ) -> None:
        """Store the channel's views of `day` per SKU, replacing those stored for it."""
        ...

    async def views_read_at(self, channel_id: uuid.UUID) -> datetime | None:
        """When the channel's views were last stored (None: never)."""
        ...

    async def conversion_counts(self, first: date, last: date) -> list[DayCount]:
        """Per channel, SKU and UTC day in [first, last]: the views stored, and the orders
        and units of the lines placed that day (each alone: a count the other lacks is 0)."""
        ...
