"""Statements sent on the driver (adapters.db.driver) answer and fail as SQLAlchemy's would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.container import Container
from adapters.db.driver import DriverStatement
from adapters.db.repositories.holds import RECORD_HOLDS, record_holds_params
from adapters.db.repositories.inventory import _SNAPSHOT_ONE
from adapters.db.tables import UtcDateTime
from domain.inventory import stock
from domain.inventory.hold_requests import reserve_movement
from domain.inventory.idempotency import Operation
from domain.inventory.model import Movement, Reservation, ReservationStatus
from tests.integration.inventory.conftest import Stockroom

postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


# A claim of a key with no ON CONFLICT: claiming one twice fails, as the driver must say.
_CLAIM = DriverStatement(
    text(
        "INSERT INTO operations (key, kind, fingerprint, actor, result, created_at)"
        " VALUES (:key, 'reserve', :fingerprint, 'test', NULL, :created_at) RETURNING key"
    ).bindparams(bindparam("created_at", type_=UtcDateTime()))
)


def _claim_params(key: str) -> dict[str, Any]:
    return {"key": key, "fingerprint": "f" * 64, "created_at": datetime.now(UTC)}


def _held(stockroom: Stockroom, key: str) -> tuple[Operation, Reservation, Movement]:
    now = datetime.now(UTC)
    claim = Operation(key, "reserve", "f" * 64, "test", now, {"reservationId": "x"})
    reservation = Reservation(
        id=uuid.uuid4(), sku=stockroom.item.sku, location_id=stockroom.warehouse.id,
        quantity=2, status=ReservationStatus.ACTIVE, reference="order-1", created_at=now,
    )  # fmt: skip
    return claim, reservation, reserve_movement(reservation, "test", key, now)


async def _receive(container: Container, stockroom: Stockroom, quantity: int) -> None:
    await stock.receive(
        container.uow,
        sku=stockroom.item.sku,
        location_id=stockroom.warehouse.id,
        quantity=quantity,
        key=uuid.uuid4().hex,
        actor="test",
    )


async def test_snapshot_rows_are_sqlalchemys(container: Container, stockroom: Stockroom) -> None:
    await _receive(container, stockroom, 5)
    async with container.engine.connect() as conn:
        expected = (await conn.execute(_SNAPSHOT_ONE.statement, {"sku": "TSHIRT-M"})).all()
        rows = await _SNAPSHOT_ONE.rows(conn, {"sku": "TSHIRT-M"})
        missing = await _SNAPSHOT_ONE.rows(conn, {"sku": "NO-SUCH-SKU"})
    assert rows == [tuple(r) for r in expected]
    assert [r._fields for r in rows] == [tuple(r._fields) for r in expected]
    for row, want in zip(rows, expected, strict=True):
        assert [type(v) for v in row] == [type(v) for v in want]
        assert row.created_at.tzinfo is not None
    assert missing == []


@postgres_only  # the driver path is PostgreSQL's; SQLite runs the statements itself
async def test_driver_statements_send_sqlalchemys_sql_and_parameters(
    container: Container, stockroom: Stockroom
) -> None:
    await _receive(container, stockroom, 5)
    claim, reservation, movement = _held(stockroom, "key-1")
    params = record_holds_params([claim], [("key-1", reservation)], [movement])
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, parameters: Any, *_: Any) -> None:
        sent.append((sql, parameters))

    async with container.engine.connect() as conn:
        event.listen(conn.sync_connection, "before_cursor_execute", record)
        try:
            await conn.execute(RECORD_HOLDS.statement, params)
        finally:
            event.remove(conn.sync_connection, "before_cursor_execute", record)
        await conn.rollback()
        rows = await RECORD_HOLDS.rows(conn, params)
        await conn.rollback()
    plan = RECORD_HOLDS._plan
    assert plan is not None
    assert (plan.sql, tuple(plan.arguments(params))) == (sent[0][0], tuple(sent[0][1]))
    assert [row.key for row in rows] == ["key-1"]


@postgres_only
async def test_a_claimed_key_fails_as_an_integrity_error(
    container: Container, stockroom: Stockroom
) -> None:
    async with container.engine.connect() as conn:
        assert await _CLAIM.first(conn, _claim_params("same-key")) is not None
        await conn.commit()
        with pytest.raises(IntegrityError) as raised:
            await _CLAIM.first(conn, _claim_params("same-key"))
        assert "pk_operations" in str(raised.value.orig)
        await conn.rollback()
        # The connection is usable again after the rollback, through both paths.
        assert await _CLAIM.first(conn, _claim_params("other-key")) is not None
        await conn.rollback()


async def test_driver_statements_join_the_unit_of_works_transaction(
    container: Container, stockroom: Stockroom
) -> None:
    """A driver statement's change is rolled back with the unit of work, committed with it."""
    claim, reservation, movement = _held(stockroom, "held-then-dropped")
    async with container.uow() as uow:
        claimed = await uow.inventory.record_holds([claim], [(claim.key, reservation)], [movement])
        assert claimed == {claim.key}
        # no commit: rolled back on exit
    async with container.uow(readonly=True) as uow:
        assert await uow.operations.get(claim.key) is None
        assert await uow.inventory.get_reservation(reservation.id) is None

    async with container.uow() as uow:
        await uow.inventory.record_holds([claim], [(claim.key, reservation)], [movement])
        await uow.commit()
    async with container.uow(readonly=True) as uow:
        assert await uow.operations.get(claim.key) is not None
        assert await uow.inventory.get_reservation(reservation.id) is not None


async def test_a_plain_statement_without_typed_columns_reads_by_name(
    container: Container, stockroom: Stockroom
) -> None:
    statement = DriverStatement(text("SELECT 1 AS one, 'a' AS letter"))
    async with container.engine.connect() as conn:
        row = await statement.first(conn, {})
        assert await DriverStatement(text("SELECT 1 AS one WHERE false")).first(conn, {}) is None
    assert row is not None
    assert (row.one, row.letter) == (1, "a")


@postgres_only
async def test_a_lost_connection_is_invalidated_and_the_next_unit_of_work_gets_a_new_one(
    container: Container, stockroom: Stockroom
) -> None:
    await _receive(container, stockroom, 5)
    async with container.engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        await conn.commit()
        async with container.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            await _SNAPSHOT_ONE.rows(conn, {"sku": "TSHIRT-M"})
        assert raised.value.connection_invalidated
        assert conn.invalidated  # not handed back to the pool to fail again
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot("TSHIRT-M")
    assert snapshot is not None
    assert snapshot.item.available == 5
