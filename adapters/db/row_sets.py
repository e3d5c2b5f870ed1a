"""Many rows of values as one relation a statement joins, instead of a statement a row.

`executemany` of an UPDATE costs a round trip and an index probe per row: 20,000 confirmations
of one feed took longer than Amazon took to process the feed. Here the rows travel together:
on PostgreSQL as one array a column (`unnest`, any number of rows, the statement's text the
same whatever their number); on SQLite as a `VALUES` list, in batches under its limit of
bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

from sqlalchemy import bindparam, column, func, values
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine

from adapters.db.dialect import is_postgresql

# SQLite allows 32,766 bound parameters a statement (since 3.32); a batch leaves room for
# the statement's own.
SQLITE_PARAMETERS: Final = 30_000


def row_sets(
    connection: AsyncConnection,
    name: str,
    columns: Sequence[tuple[str, TypeEngine[Any]]],
    rows: Sequence[tuple[Any, ...]],
) -> Iterator[FromClause]:
    """`rows` (each a value per column, in order) as relations named `name`: one on
    PostgreSQL, as many as SQLite's parameter limit asks for there."""
    if not rows:
        return
    if is_postgresql(connection):
        arrays = [
            bindparam(f"{name}_{label}", [row[n] for row in rows], type_=ARRAY(kind))
            for n, (label, kind) in enumerate(columns)
        ]
        yield (
            func.unnest(*arrays)
            .table_valued(*(column(label, kind) for label, kind in columns))
            .render_derived(name=name, with_types=False)
        )
        return
    size = max(1, SQLITE_PARAMETERS // len(columns))
    for start in range(0, len(rows), size):
        yield (
            values(*(column(label, kind) for label, kind in columns), name=name)
            .data(list(rows[start : start + size]))
            .cte(name)
        )
