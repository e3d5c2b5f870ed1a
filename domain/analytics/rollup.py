"""Compacting the sales rollup: the rows each order change appended, folded per key.

The report reads appended and compacted rows alike, so compaction changes no figure; it keeps
the rows a report reads few. Each batch is its own transaction; a run stops at a batch that
was not full (what is appended meanwhile waits for the next run).
"""

from __future__ import annotations

from domain.ports import UnitOfWorkFactory

BATCH = 20_000


async def compact_rollup(uows: UnitOfWorkFactory, *, batch: int = BATCH) -> int:
    """Fold the rollup's appended rows; how many were folded."""
    folded = 0
    while True:
        async with uows() as uow:
            done = await uow.sales.compact_rollup(batch)
            await uow.commit()
        folded += done
        if done < batch:
            return folded
