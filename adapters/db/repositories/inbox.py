"""The inbox in SQL: one row per (channel, event id); every status change is conditional."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import is_postgresql
from adapters.db.stockout_spells import note_shown
from adapters.db.tables import channel_configs, inbox, listing_items, listings
from domain.channels.port import InboundKind
from domain.sync.inbox_model import OPEN_STATUSES, InboxEntry, InboxStatus, Intake, Settlement

_OPEN = sorted(status.value for status in OPEN_STATUSES)


def _entry(row: Any) -> InboxEntry:
    return InboxEntry(
        id=row.id,
        channel_id=row.channel_id,
        event_id=row.event_id,
        topic=row.topic,
        kind=InboundKind(row.kind) if row.kind else None,
        headers=dict(row.headers or {}),
        body=row.body,
        status=InboxStatus(row.status),
        attempts=row.attempts,
        received_at=row.received_at,
        error=row.error,
        sku=row.sku,
        occurred_at=row.occurred_at,
        delta=row.delta,
        processed_at=row.processed_at,
    )


def _settled(settlement: Settlement, at: datetime) -> dict[str, Any]:
    """The columns a settlement writes; facts it does not know are left as they are."""
    values: dict[str, Any] = {
        "status": settlement.status.value,
        "error": settlement.reason[:2000] if settlement.reason else None,
        "processed_at": at,
    }
    if settlement.kind is not None:
        values["kind"] = settlement.kind.value
    if settlement.sku is not None:
        values["sku"] = settlement.sku
    if settlement.occurred_at is not None:
        values["occurred_at"] = settlement.occurred_at
    if settlement.delta is not None:
        values["delta"] = settlement.delta
    return values


# The columns an arriving event sets; the others keep their defaults (NULL) until processed.
_ARRIVING = ("id", "channel_id", "event_id", "topic", "kind", "headers", "body", "status",
             "attempts", "received_at")  # fmt: skip


def _arriving(entry: InboxEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "channel_id": entry.channel_id,
        "event_id": entry.event_id,
        "topic": entry.topic,
        "kind": entry.kind.value if entry.kind else None,
        "headers": dict(entry.headers),
        "body": entry.body,
        "status": entry.status.value,
        "attempts": entry.attempts,
        "received_at": entry.received_at,
    }


def _stored_once(insert: Any, rows: Any) -> Any:
    """INSERT INTO inbox … `rows` ON CONFLICT (channel, event id) DO NOTHING RETURNING id."""
    return (
        insert(inbox)
        .from_select(list(_ARRIVING), rows)
        .on_conflict_do_nothing(index_elements=["channel_id", "event_id"])
        .returning(inbox.c.id)
    )


def _one_arrival() -> Any:
    """SQLite: one event, SELECTed from its channel's configuration row WHERE the
    credentials are those it was verified with."""
    config = channel_configs.c
    values = select(*(bindparam(name, type_=inbox.c[name].type) for name in _ARRIVING)).where(
        config.channel_id == bindparam("channel_id"),
        config.credentials == bindparam("verified_with", type_=config.credentials.type),
    )
    return _stored_once(sqlite_insert, values)


# PostgreSQL: the element type of each array, one per column an arriving event sets, and
# the credentials it was verified with. Headers go as JSON text (cast back to JSONB), times
# as the aware UTC datetimes they are.
_ELEMENT_TYPES: dict[str, Any] = {
    **{name: inbox.c[name].type for name in _ARRIVING},
    "headers": Text(),
    "received_at": DateTime(timezone=True),
    "verified_with": channel_configs.c.credentials.type,
}


def _many_arrivals() -> Any:
    """PostgreSQL: every event of a batch in one statement, prepared once whatever their
    number. Their values go as arrays (one element per event), unnested into rows joined to
    their channels' configuration rows on the credentials they were verified with."""
    arriving = (
        func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _ELEMENT_TYPES.items()))
        .table_valued(*(column(name, kind) for name, kind in _ELEMENT_TYPES.items()))
        .render_derived(name="arriving")
    )
    config = channel_configs.c
    rows = select(
        *(
            cast(arriving.c[name], JSONB) if name == "headers" else arriving.c[name]
            for name in _ARRIVING
        )
    ).join_from(
        arriving,
        channel_configs,
        and_(
            config.channel_id == arriving.c.channel_id,
            config.credentials == arriving.c.verified_with,
        ),
    )
    return _stored_once(postgresql_insert, rows)


_ONE_ARRIVAL = _one_arrival()
_MANY_ARRIVALS = _many_arrivals()


def _as_arrays(arrivals: Sequence[tuple[InboxEntry, bytes]]) -> dict[str, list[Any]]:
    arrays: dict[str, list[Any]] = {name: [] for name in _ELEMENT_TYPES}
    for entry, verified_with in arrivals:
        for name, value in _arriving(entry).items():
            arrays[name].append(json.dumps(value) if name == "headers" else value)
        arrays["verified_with"].append(verified_with)
    return arrays


def inbox_cursor(entry: InboxEntry) -> str:
    return encode_cursor(entry.received_at.isoformat(), entry.id)


class SqlInboxRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add_verified(self, arrivals: Sequence[tuple[InboxEntry, bytes]]) -> list[Intake]:
        if not arrivals:
            return []
        if is_postgresql(self._conn):
            stored = set((await self._conn.execute(_MANY_ARRIVALS, _as_arrays(arrivals))).scalars())
        else:  # SQLite: one statement per event, in this unit of work's one transaction
            stored = set()
            for entry, verified_with in arrivals:
                values = {**_arriving(entry), "verified_with": verified_with}
                stored.update((await self._conn.execute(_ONE_ARRIVAL, values)).scalars())
        current: dict[uuid.UUID, bytes | None] = {}
        if len(stored) < len(arrivals):
            # Known events, or credentials changed since: which, costs one more query.
            current = await self._credentials({entry.channel_id for entry, _ in arrivals})
        return [
            Intake.STORED
            if entry.id in stored
            else (
                Intake.DUPLICATE if current.get(entry.channel_id) == verified_with else Intake.STALE
            )
            for entry, verified_with in arrivals
        ]

    async def _credentials(self, channel_ids: set[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
        config = channel_configs.c
        stmt = select(config.channel_id, config.credentials).where(
            config.channel_id.in_(channel_ids)
        )
        return {row.channel_id: row.credentials for row in await self._conn.execute(stmt)}

    async def get(self, inbox_id: uuid.UUID) -> InboxEntry | None:
        row = (await self._conn.execute(select(inbox).where(inbox.c.id == inbox_id))).first()
        return _entry(row) if row else None

    async def get_many(self, inbox_ids: Sequence[uuid.UUID]) -> list[InboxEntry]:
        if not inbox_ids:
            return []
        stmt = select(inbox).where(inbox.c.id.in_(list(inbox_ids)))
        return [_entry(row) for row in await self._conn.execute(stmt)]

    async def settle_many(
        self, settled: Sequence[tuple[uuid.UUID, Settlement]], at: datetime
    ) -> None:
        if not settled:
            return
        c = inbox.c
        stmt = (
            update(inbox)
            # No IN (…): its expanding parameter cannot go with executemany.
            .where(c.id == bindparam("e_id"), or_(*(c.status == open_ for open_ in _OPEN)))
            .values(
                status=bindparam("e_status"),
                error=bindparam("e_error"),
                processed_at=bindparam("e_at"),
                kind=func.coalesce(bindparam("e_kind", type_=c.kind.type), c.kind),
                sku=func.coalesce(bindparam("e_sku", type_=c.sku.type), c.sku),
                occurred_at=func.coalesce(
                    bindparam("e_occurred_at", type_=c.occurred_at.type), c.occurred_at
                ),
                delta=func.coalesce(bindparam("e_delta", type_=c.delta.type), c.delta),
            )
        )
        rows = [
            {
                "e_id": inbox_id,
                "e_status": s.status.value,
                "e_error": s.reason[:2000] if s.reason else None,
                "e_at": at,
                "e_kind": s.kind.value if s.kind else None,
                "e_sku": s.sku,
                "e_occurred_at": s.occurred_at,
                "e_delta": s.delta,
            }
            for inbox_id, s in sorted(settled, key=lambda pair: str(pair[0]))
        ]
        await self._conn.execute(stmt, rows)

    def _open(self, inbox_id: uuid.UUID) -> Any:
        return update(inbox).where(inbox.c.id == inbox_id, inbox.c.status.in_(_OPEN))

    async def classify(self, inbox_id: uuid.UUID, kind: InboundKind) -> None:
        await self._conn.execute(self._open(inbox_id).values(kind=kind.value))

    async def settle(self, inbox_id: uuid.UUID, settlement: Settlement, at: datetime) -> bool:
        stmt = self._open(inbox_id).values(**_settled(settlement, at))
        return (await self._conn.execute(stmt)).rowcount == 1

    async def fail(
        self, inbox_id: uuid.UUID, failure: Settlement, at: datetime, *, attempts_at_least: int = 0
    ) -> int | None:
        attempts = inbox.c.attempts + 1
        stmt = (
            self._open(inbox_id)
            .values(
                {
                    **_settled(failure, at),
                    "status": InboxStatus.FAILED.value,
                    "attempts": case(
                        (attempts < attempts_at_least, attempts_at_least), else_=attempts
                    ),
                }
            )
            .returning(inbox.c.attempts)
        )
        made: int | None = (await self._conn.execute(stmt)).scalar_one_or_none()
        return made

    async def due(
        self, *, received_before: datetime, max_attempts: int, limit: int
    ) -> list[uuid.UUID]:
        c = inbox.c
        lost = and_(c.status == InboxStatus.RECEIVED.value, c.received_at < received_before)
        retry = and_(c.status == InboxStatus.FAILED.value, c.attempts < max_attempts)
        stmt = select(c.id).where(or_(lost, retry)).order_by(c.received_at).limit(limit)
        return list((await self._conn.execute(stmt)).scalars())

    async def listed_with_refs(
        self, channel_id: uuid.UUID, refs: Sequence[Mapping[str, str]]
    ) -> dict[str, Mapping[str, str]]:
        pairs = sorted({(name, value) for one in refs for name, value in one.items()})
        if not pairs:
            return {}
        item = listing_items.c
        # JSON text extraction (->> on PostgreSQL, json_extract on SQLite) over the channel's
        # listed SKUs: no index, but a channel has at most tens of thousands of them.
        matches = [item.refs[name].as_string() == value for name, value in pairs]
        stmt = (
            select(item.sku, item.refs)
            .join(listings, listings.c.id == item.listing_id)
            .where(listings.c.channel_id == channel_id, or_(*matches))
        )
        return {row.sku: dict(row.refs or {}) for row in await self._conn.execute(stmt)}

    async def last_decided(self, channel_id: uuid.UUID, skus: Sequence[str]) -> dict[str, datetime]:
        c = inbox.c
        stmt = (
            select(c.sku, func.max(c.occurred_at).label("at"))
            .where(
                c.channel_id == channel_id,
                c.sku.in_(list(skus)),
                c.kind == InboundKind.STOCK_EDIT.value,
                c.delta.is_not(None),
            )
            .group_by(c.sku)
        )
        return {row.sku: row.at for row in await self._conn.execute(stmt) if row.at is not None}

    async def move_confirmed(
        self, channel_id: uuid.UUID, sku: str, expected: int | None, figure: int, at: datetime
    ) -> bool:
        item = listing_items.c
        on_channel = select(listings.c.id).where(listings.c.channel_id == channel_id)
        # On PostgreSQL the row lock makes a concurrent decision wait, then see the new figure.
        result = await self._conn.execute(
            update(listing_items)
            .where(
                item.sku == sku,
                item.listing_id.in_(on_channel),
                item.confirmed_quantity.is_not_distinct_from(expected),
            )
            .values(confirmed_quantity=figure, confirmed_at=at)
        )
        if result.rowcount > 0:
            await note_shown(self._conn, channel_id, [sku], at)
        return result.rowcount > 0

    async def later_edit_decided(
        self, channel_id: uuid.UUID, sku: str, occurred_at: datetime, inbox_id: uuid.UUID
    ) -> bool:
        c = inbox.c
        later = exists().where(
            c.channel_id == channel_id,
            c.sku == sku,
            c.kind == InboundKind.STOCK_EDIT.value,
            c.delta.is_not(None),
            c.occurred_at > occurred_at,
            c.id != inbox_id,
        )
        return bool((await self._conn.execute(select(later))).scalar())

    async def record_decision(
        self, inbox_id: uuid.UUID, sku: str, occurred_at: datetime, delta: int
    ) -> bool:
        stmt = self._open(inbox_id).values(
            kind=InboundKind.STOCK_EDIT.value, sku=sku, occurred_at=occurred_at, delta=delta
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        status: InboxStatus | None,
        first: int,
        after: str | None,
    ) -> list[InboxEntry]:
        c = inbox.c
        stmt = select(inbox).order_by(c.received_at.desc(), c.id.desc()).limit(first)
        if channel_id is not None:
            stmt = stmt.where(c.channel_id == channel_id)
        if status is not None:
            stmt = stmt.where(c.status == status.value)
        if after is not None:
            stmt = stmt.where(before_position(c.received_at, c.id, after))
        return [_entry(row) for row in await self._conn.execute(stmt)]
