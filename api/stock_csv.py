"""Stock lines from a CSV file: receipts and counts per SKU and location.

The first row names the columns, in any order: `sku`, `location` (a location's code),
`kind` (`receive` or `count`) and `quantity` are required; `key` is optional. Each line's
idempotency key is its `key` when given, else the file's digest and the line's row: the
same file imported twice applies once (a file edited after a partial import needs keys of
its own to be recognised). Rows count as in a spreadsheet (the header is row 1); a row of
empty cells is skipped.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from api.catalog_csv import CsvError
from domain.inventory.imports import (
    DEFAULT_LANES,
    ImportReport,
    LineError,
    Progress,
    StockLine,
    StockLineKind,
    check_lines,
    import_stock,
)
from domain.ports import UnitOfWorkFactory

COLUMNS: Final = ("sku", "location", "kind", "quantity", "key")
REQUIRED: Final = ("sku", "location", "kind", "quantity")
HEADER_ROW: Final = 1
KEY_PREFIX: Final = "stock-import:"
MAX_KEY: Final = 180
MAX_CELL: Final = 200


@dataclass(frozen=True, slots=True)
class ParsedStock:
    lines: list[StockLine]
    errors: list[LineError]


def read_stock(path: Path) -> ParsedStock:
    """Parse the CSV file at `path`; raises CsvError when it cannot be read at all."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CsvError(f"{path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often start with a byte-order mark
    except UnicodeDecodeError as error:
        raise CsvError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_stock(text)


def parse_stock(text: str) -> ParsedStock:
    """The lines of a stock CSV given as text, and every row error."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    reader = csv.DictReader(text.splitlines(keepends=True))
    lines: list[StockLine] = []
    errors: list[LineError] = []
    try:
        columns = _header(reader.fieldnames)
        reader.fieldnames = columns
        for number, raw in enumerate(reader, start=HEADER_ROW + 1):
            line = _line(number, raw, columns, digest, errors)
            if line is not None:
                lines.append(line)
    except csv.Error as error:
        raise CsvError(f"line {reader.line_num}: {error}") from None
    return ParsedStock(lines, errors)


def _header(names: Iterable[str] | None) -> list[str]:
    columns = [name.strip().lower() for name in names or ()]
    if not columns:
        raise CsvError("the file is empty: its first row names the columns")
    problems = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(f"column(s) given twice: {', '.join(repeated)}")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if problems:
        raise CsvError(f"header (row {HEADER_ROW}): {'; '.join(problems)}")
    return columns


def _line(
    number: int,
    raw: dict[str | None, str | list[str] | None],
    columns: list[str],
    digest: str,
    errors: list[LineError],
) -> StockLine | None:
    cells = {c: raw.get(c) for c in columns}
    extra = raw.get(None) or []
    if not any(isinstance(v, str) and v.strip() for v in [*cells.values(), *extra]):
        return None
    if extra:
        errors.append(LineError(number, None, f"more cells than the header's {len(columns)}"))
        return None
    row: dict[str, str] = {}
    for column, value in cells.items():
        if not isinstance(value, str):
            errors.append(LineError(number, column, "the row ends before this column"))
            return None
        row[column] = value.strip()
    found = len(errors)
    for column in ("sku", "location", "key"):
        value = row.get(column, "")
        if len(value) > (MAX_KEY if column == "key" else MAX_CELL):
            errors.append(LineError(number, column, "too long"))
        elif not value.isprintable():
            errors.append(LineError(number, column, "control characters are not allowed"))
    for column in ("sku", "location"):
        if not row[column]:
            errors.append(LineError(number, column, "required"))
    kinds = ", ".join(k.value for k in StockLineKind)
    kind = row["kind"].lower()
    if kind not in {k.value for k in StockLineKind}:
        errors.append(LineError(number, "kind", f"one of {kinds}, not {row['kind'][:40]!r}"))
    quantity = row["quantity"]
    if not (quantity.isascii() and quantity.lstrip("-").isdigit()) or len(quantity) > 12:
        errors.append(LineError(number, "quantity", f"{quantity[:40]!r} is no whole number"))
    if len(errors) > found:
        return None
    key = row.get("key") or f"{digest}:{number}"
    return StockLine(
        row=number,
        sku=row["sku"],
        location_code=row["location"],
        kind=StockLineKind(kind),
        quantity=int(quantity),
        key=KEY_PREFIX + key,
    )


async def import_parsed(
    uows: UnitOfWorkFactory,
    parsed: ParsedStock,
    *,
    actor: str,
    lanes: int = DEFAULT_LANES,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the file's lines, or none of them when any row is at fault: then every fault
    is reported, those the database finds among the readable rows included."""
    if parsed.errors:
        _, found = await check_lines(uows, parsed.lines)
        return ImportReport(errors=sorted([*parsed.errors, *found], key=lambda e: e.row))
    return await import_stock(uows, parsed.lines, actor=actor, lanes=lanes, progress=progress)
