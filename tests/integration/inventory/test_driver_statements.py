"""Statements sent on the driver (adapters.db.driver) answer and fail as SQLAlchemy's would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.container import Container
from adapters.db.driver import DriverStatement
from adapters.db.repositories import level_changes
from adapters.db.repositories.inventory import _SNAPSHOT_ONE
from domain.inventory import stock
from domain.inventory.idempotency import Operation
from domain.inventory.model import Movement, MovementReason, Reservation, ReservationStatus
from tests.integration.inventory.conftest import Stockroom

postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _hold_params(stockroom: Stockroom, key: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sku": stockroom.item.sku,
        "location_id": stockroom.warehouse.id,
        "on_hand_delta": 0,
        "reserved_delta": 1,
        "available_delta": -1,
        "reservation_id": uuid.uuid4(),
        "reference": "order-1",
        "created_at": now,
        "expires_at": None,
        "movement_id": uuid.uuid4(),
        "reason": "reserve",
        "actor": "test",
        "operation_key": key,
        "operation_kind": "reserve",
        "fingerprint": "f" * 64,
        "operation_result": {"reservationId": "x"},
    }


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
    statement = level_changes._HOLD[(True, True)]
    params = _hold_params(stockroom, "key-1")
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, parameters: Any, *_: Any) -> None:
        sent.append((sql, parameters))

    async with container.engine.connect() as conn:
        event.listen(conn.sync_connection, "before_cursor_execute", record)
        try:
            await conn.execute(statement.statement, params)
        finally:
            event.remove(conn.sync_connection, "before_cursor_execute", record)
        await conn.rollback()
        row = await statement.first(conn, params)
        await conn.rollback()
    plan = statement._plan
    assert plan is not None
    assert (plan.sql, tuple(plan.arguments(params))) == (sent[0][0], tuple(sent[0][1]))
    assert row is not None
    assert (row.on_hand, row.reserved, row.available) == (5, 1, 4)


@postgres_only  # the claim shares the hold statement on PostgreSQL only
async def test_a_claimed_key_fails_as_an_integrity_error(
    container: Container, stockroom: Stockroom
) -> None:
    await _receive(container, stockroom, 5)
    statement = level_changes._HOLD[(True, True)]
    async with container.engine.connect() as conn:
        assert await statement.first(conn, _hold_params(stockroom, "same-key")) is not None
        await conn.commit()
        with pytest.raises(IntegrityError) as raised:
            await statement.first(conn, _hold_params(stockroom, "same-key"))
        assert "pk_operations" in str(raised.value.orig)
        await conn.rollback()
        # The connection is usable again after the rollback, through both paths.
        assert await statement.first(conn, _hold_params(stockroom, "other-key")) is not None
        await conn.rollback()


async def test_driver_statements_join_the_unit_of_works_transaction(
    container: Container, stockroom: Stockroom
) -> None:
    """A driver statement's change is rolled back with the unit of work, committed with it."""
    await _receive(container, stockroom, 5)
    claim = Operation("held-then-dropped", "reserve", "f" * 64, "test", datetime.now(UTC), {})
    reservation = Reservation(
        id=uuid.uuid4(),
        sku="TSHIRT-M",
        location_id=stockroom.warehouse.id,
        quantity=2,
        status=ReservationStatus.ACTIVE,
        reference=None,
        created_at=claim.created_at,
    )
    movement = Movement(
        id=uuid.uuid4(),
        sku="TSHIRT-M",
        location_id=stockroom.warehouse.id,
        on_hand_delta=0,
        reserved_delta=2,
        reason=MovementReason.RESERVE,
        actor="test",
        operation_key=claim.key,
        created_at=claim.created_at,
        reservation_id=reservation.id,
    )
    async with container.uow() as uow:
        assert await uow.inventory.hold(reservation, movement, sellable=True, claim=claim)
        # no commit: rolled back on exit
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot("TSHIRT-M")
        assert await uow.operations.get(claim.key) is None
    assert snapshot is not None
    level = snapshot.level_at(stockroom.warehouse.id)
    assert level is not None
    assert (level.on_hand, level.reserved) == (5, 0)
    assert snapshot.item.available == 5

    async with container.uow() as uow:
        assert await uow.inventory.hold(reservation, movement, sellable=True, claim=claim)
        await uow.commit()
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot("TSHIRT-M")
        assert await uow.operations.get(claim.key) is not None
    assert snapshot is not None
    level = snapshot.level_at(stockroom.warehouse.id)
    assert level is not None
    assert (level.on_hand, level.reserved) == (5, 2)
    assert snapshot.item.available == 3


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
