"""Channel reports: last-unit conflicts by outcome, and how the channels' APIs behaved."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import InvalidInput
from domain.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ConflictCount:
    """Conflicts of one channel's lines settled by one policy, by what became of the line
    (its status now: SHORT backordered or held, CANCELLED, ALLOCATED once stock came…)."""

    channel_id: uuid.UUID
    policy: str
    outcome: str
    conflicts: int
    units: int


@dataclass(frozen=True, slots=True)
class CallStats:
    """One channel's calls over a span: by outcome, and their latency."""

    channel_id: uuid.UUID
    calls: int
    outcomes: dict[str, int]
    average_ms: int
    p95_ms: int
    max_ms: int

    @property
    def failure_percent(self) -> Decimal:
        failed = self.calls - self.outcomes.get("ok", 0)
        share = Decimal(failed * 100) / self.calls if self.calls else Decimal(0)
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_span(start: datetime, end: datetime) -> None:
    """A report's [start, end): zoned times, start first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times carry their zone (UTC)", field="from")
    if not start < end:
        raise InvalidInput("`from` is before `to`", field="to")


async def conflicts_report(
    uows: UnitOfWorkFactory, start: datetime, end: datetime
) -> list[ConflictCount]:
    check_span(start, end)
    async with uows(readonly=True) as uow:
        return await uow.sales.conflicts(start, end)


async def sync_health(uows: UnitOfWorkFactory, start: datetime, end: datetime) -> list[CallStats]:
    check_span(start, end)
    async with uows(readonly=True) as uow:
        return await uow.sales.calls(start, end)
