"""Stock from a file: receipts and counts per SKU and location, checked whole, then applied.

Every line is checked before any is applied (SKU and location known, quantities sound, a
count not below what is reserved, no level past its column), so a bad file changes
nothing. Lines are then applied through `stock_batches.receive_and_count`, over the inventory's
one writer of on hand, some hundreds to a transaction, each under its line's idempotency
key: an import cut short is completed by running it again, and a rerun replays what was
done instead of doing it twice. Lines of one SKU are applied in file order, in one lane;
different SKUs go in parallel lanes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from domain.errors import DomainError
from domain.inventory import stock_batches
from domain.inventory.idempotency import MAX_KEY_LENGTH
from domain.inventory.model import Location, MovementReason, SkuSnapshot
from domain.limits import MAX_UNITS
from domain.ports import UnitOfWorkFactory

READ_CHUNK: Final = 500
DEFAULT_LANES: Final = 8
BATCH_LINES: Final = 500  # lines per transaction


class StockLineKind(StrEnum):
    RECEIVE = "receive"  # units arrived: on hand goes up by the quantity
    COUNT = "count"  # a count: on hand becomes the quantity


@dataclass(frozen=True, slots=True)
class StockLine:
    row: int  # where the file has it, for errors
    sku: str
    location_code: str
    kind: StockLineKind
    quantity: int
    key: str  # the line's idempotency key


@dataclass(frozen=True, slots=True)
class LineError:
    row: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"row {self.row}: {where}{self.message}"


@dataclass
class ImportReport:
    applied: int = 0
    replayed: int = 0  # lines an earlier run applied
    errors: list[LineError] = field(default_factory=list)


Progress = Callable[[int], None]  # lines done since the last call


async def check_lines(
    uows: UnitOfWorkFactory, lines: Sequence[StockLine]
) -> tuple[dict[str, Location], list[LineError]]:
    """Every reason a line cannot be applied, as if applied in order; nothing is written."""
    errors: list[LineError] = []
    async with uows(readonly=True) as uow:
        locations = {location.code: location for location in await uow.inventory.list_locations()}
        skus = sorted({line.sku for line in lines})
        snapshots: dict[str, SkuSnapshot] = {}
        for start in range(0, len(skus), READ_CHUNK):
            snapshots.update(await uow.inventory.snapshots(skus[start : start + READ_CHUNK]))
    on_hand: dict[tuple[str, uuid.UUID], int] = {}
    keys: set[str] = set()
    for line in lines:
        fault = _fault(line, locations, snapshots, on_hand, keys)
        if fault is not None:
            errors.append(fault)
    return locations, errors


def _fault(
    line: StockLine,
    locations: dict[str, Location],
    snapshots: dict[str, SkuSnapshot],
    on_hand: dict[tuple[str, uuid.UUID], int],
    keys: set[str],
) -> LineError | None:
    def error(field: str | None, message: str) -> LineError:
        return LineError(line.row, field, message)

    if not 0 < len(line.key) <= MAX_KEY_LENGTH:
        return error("key", f"a key is 1 to {MAX_KEY_LENGTH} characters")
    if line.key in keys:
        return error("key", "another row has this key")
    keys.add(line.key)
    snapshot = snapshots.get(line.sku)
    if snapshot is None:
        return error("sku", f"unknown SKU {line.sku!r}")
    location = locations.get(line.location_code)
    if location is None:
        return error("location", f"unknown location {line.location_code!r}")
    if line.kind is StockLineKind.RECEIVE and line.quantity <= 0:
        return error("quantity", "a receipt is a positive whole number")
    if line.quantity < 0:
        return error("quantity", "a count cannot be negative")
    level = snapshot.level_at(location.id)
    reserved = level.reserved if level is not None else 0
    current = on_hand.get((line.sku, location.id), level.on_hand if level is not None else 0)
    after = current + line.quantity if line.kind is StockLineKind.RECEIVE else line.quantity
    if after > MAX_UNITS:
        return error("quantity", f"{line.sku} would hold more than {MAX_UNITS} units here")
    if after < reserved:
        return error("quantity", f"counted {after} but {reserved} are reserved here")
    on_hand[(line.sku, location.id)] = after
    return None


async def import_stock(
    uows: UnitOfWorkFactory,
    lines: Sequence[StockLine],
    *,
    actor: str,
    lanes: int = DEFAULT_LANES,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every line; apply them all only if none is at fault (see the module's doc)."""
    locations, errors = await check_lines(uows, lines)
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    queue = iter(_work(lines))

    async def lane() -> None:
        for work in queue:  # shared: each lane takes the next piece of work
            for start in range(0, len(work), BATCH_LINES):
                batch = work[start : start + BATCH_LINES]
                await _apply(uows, batch, locations, actor, report)
                if progress is not None:
                    progress(len(batch))

    await asyncio.gather(*(lane() for _ in range(max(1, lanes))))
    report.errors.sort(key=lambda e: e.row)
    return report


def _work(lines: Sequence[StockLine]) -> list[list[StockLine]]:
    """The lines in pieces of whole SKUs, about `BATCH_LINES` each, in file order: no two
    pieces share a level (or a SKU's locks), and a piece applies in order."""
    by_sku: dict[str, list[StockLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    pieces: list[list[StockLine]] = [[]]
    for sku_lines in by_sku.values():
        if pieces[-1] and len(pieces[-1]) + len(sku_lines) > BATCH_LINES:
            pieces.append([])
        pieces[-1].extend(sku_lines)
    return [sorted(piece, key=lambda line: line.row) for piece in pieces if piece]


async def _apply(
    uows: UnitOfWorkFactory,
    batch: Sequence[StockLine],
    locations: dict[str, Location],
    actor: str,
    report: ImportReport,
) -> None:
    """Lines through the inventory's writer, in one transaction; what changed since the
    check is the error of the line it stops."""
    entries = [
        stock_batches.StockEntry(
            reason=MovementReason.RECEIVE if line.kind is StockLineKind.RECEIVE
            else MovementReason.COUNT,
            sku=line.sku, location_id=locations[line.location_code].id, quantity=line.quantity,
            key=line.key, note=f"import row {line.row}" if line.kind is StockLineKind.RECEIVE
            else None,
        )
        for line in batch
    ]  # fmt: skip
    outcomes = await stock_batches.receive_and_count(uows, entries, actor=actor)
    for line, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            report.errors.append(LineError(line.row, outcome.field, outcome.message))
        elif outcome.replayed:
            report.replayed += 1
        else:
            report.applied += 1
