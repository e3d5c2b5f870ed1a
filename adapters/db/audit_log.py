"""The admin audit log in SQL: appended once per admin action, read newest first.

Written beside the action (after it, in its own transaction), not inside it: an action's
use case knows nothing of who audits it. A process dying between the two loses the entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.cursors import before_position
from adapters.db.tables import admin_audit


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: uuid.UUID
    at: datetime
    actor: str
    action: str
    subject: str | None
    outcome: str
    input: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class SqlAdminAudit:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(self, entry: AuditEntry) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(admin_audit).values(
                    id=entry.id,
                    at=entry.at,
                    actor=entry.actor,
                    action=entry.action,
                    subject=entry.subject,
                    outcome=entry.outcome,
                    input=entry.input,
                    before=entry.before,
                    after=entry.after,
                )
            )

    async def page(self, *, first: int, after: str | None, action: str | None) -> list[AuditEntry]:
        c = admin_audit.c
        stmt = select(admin_audit).order_by(c.at.desc(), c.id.desc()).limit(first)
        if action is not None:
            stmt = stmt.where(c.action == action)
        if after is not None:
            stmt = stmt.where(before_position(c.at, c.id, after))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditEntry(
                id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject,
                outcome=r.outcome, input=r.input, before=r.before, after=r.after,
            )
            for r in rows
        ]  # fmt: skip
