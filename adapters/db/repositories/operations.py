"""The operation log: idempotency keys and the results they stand for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import upsert_for
from adapters.db.tables import operations
from domain.inventory.idempotency import Operation, OperationAlreadyRecorded

READ_CHUNK: Final = 500  # keys per read: SQLite binds each one


class SqlOperationLog:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def claim(self, operation: Operation) -> None:
        try:
            await self._conn.execute(
                insert(operations).values(
                    key=operation.key,
                    kind=operation.kind,
                    fingerprint=operation.fingerprint,
                    actor=operation.actor,
                    result=dict(operation.result) if operation.result is not None else None,
                    created_at=operation.created_at,
                )
            )
        except IntegrityError:
            # The key is the table's only unique constraint. On PostgreSQL the insert waited
            # for a concurrent claimer to commit; either way the stored result answers.
            raise OperationAlreadyRecorded(operation.key) from None

    async def claim_many(self, claims: Sequence[Operation]) -> set[str]:
        if not claims:
            return set()
        stmt = (
            upsert_for(self._conn)(operations)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(operations.c.key)
        )
        rows = [
            {
                "key": op.key,
                "kind": op.kind,
                "fingerprint": op.fingerprint,
                "actor": op.actor,
                "result": dict(op.result) if op.result is not None else None,
                "created_at": op.created_at,
            }
            for op in claims
        ]
        return {row.key for row in await self._conn.execute(stmt, rows)}

    async def complete(self, key: str, result: Mapping[str, Any]) -> None:
        await self._conn.execute(
            update(operations).where(operations.c.key == key).values(result=dict(result))
        )

    async def get(self, key: str) -> Operation | None:
        row = (await self._conn.execute(select(operations).where(operations.c.key == key))).first()
        return _operation(row) if row is not None else None

    async def get_many(self, keys: Sequence[str]) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), READ_CHUNK):
            stmt = select(operations).where(
                operations.c.key.in_(wanted[start : start + READ_CHUNK])
            )
            found.update({row.key: _operation(row) for row in await self._conn.execute(stmt)})
        return found


def _operation(row: Any) -> Operation:
    return Operation(
        key=row.key,
        kind=row.kind,
        fingerprint=row.fingerprint,
        actor=row.actor,
        created_at=row.created_at,
        result=row.result,
    )
