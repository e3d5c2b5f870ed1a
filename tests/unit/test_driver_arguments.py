"""A driver statement's arguments are SQLAlchemy's: taken straight from the caller's mapping
when `construct_params` would do no more, through `construct_params` otherwise."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import InvalidRequestError

import adapters.db
from adapters.db.driver import DriverStatement, _Plan
from adapters.db.tables import UtcDateTime, reservations

DIALECT = asyncpg_dialect()


def _module_statements() -> dict[str, DriverStatement]:
    found: dict[str, DriverStatement] = {}
    for module in pkgutil.walk_packages(adapters.db.__path__, "adapters.db."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if isinstance(value, DriverStatement):
                found[f"{module.name}.{name}"] = value
    return found


STATEMENTS = _module_statements()


def _sqlalchemys(plan: _Plan, params: dict[str, Any]) -> list[Any]:
    values = plan.statement_params(params)
    return [values[name] for name, _ in plan.binds]


def test_the_hot_statements_are_taken_straight_from_the_mapping() -> None:
    plans = {name: _Plan(s.statement, DIALECT) for name, s in STATEMENTS.items()}
    for hot in ("holds.HOLD_ONE", "holds.HOLD", "inventory._SNAPSHOT_MANY", "outbox.MARK"):
        (plan,) = [p for name, p in plans.items() if name.endswith(hot)]
        assert plan.take is not None, hot


# The statements taken straight from the mapping; the others go through construct_params.
DIRECT = sorted(n for n, s in STATEMENTS.items() if _Plan(s.statement, DIALECT).take is not None)


def test_only_the_statement_with_a_literal_goes_through_construct_params() -> None:
    assert sorted(set(STATEMENTS) - set(DIRECT)) == [
        "adapters.db.repositories.inventory._LOCK_HELD"
    ]


@pytest.mark.parametrize("name", DIRECT)
def test_every_direct_statement_gets_the_values_sqlalchemy_would_send(name: str) -> None:
    plan = _Plan(STATEMENTS[name].statement, DIALECT)
    params = {bind: object() for bind, _ in plan.binds}  # each value told apart by identity
    assert plan.take is not None
    taken = plan.take(params)
    assert [id(v) for v in taken] == [id(v) for v in _sqlalchemys(plan, params)]


def test_a_missing_value_is_refused_as_sqlalchemy_refuses_it() -> None:
    plan = _Plan(text("SELECT :a, :b"), DIALECT)
    assert plan.take is not None
    with pytest.raises(InvalidRequestError) as ours:
        plan.arguments({"a": 1})
    with pytest.raises(InvalidRequestError) as theirs:
        plan.statement_params({"a": 1})
    assert str(ours.value) == str(theirs.value)
    assert "'b'" in str(ours.value)


def test_a_statement_with_a_literal_value_goes_through_construct_params() -> None:
    statement = select(reservations.c.id).where(
        reservations.c.status == "active", reservations.c.sku == bindparam("sku")
    )
    plan = _Plan(statement, DIALECT)
    assert plan.take is None  # the literal is a parameter the caller does not give
    assert plan.arguments({"sku": "A"}) == ["active", "A"]


def test_bind_processors_still_apply_on_the_direct_path() -> None:
    statement = text("SELECT :at, :plain").bindparams(bindparam("at", type_=UtcDateTime()))
    plan = _Plan(statement, DIALECT)
    assert plan.take is not None
    assert plan.bound  # `at` has a processor
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    general = [
        value if processor is None else processor(value)
        for (name, processor), value in zip(
            plan.binds, _sqlalchemys(plan, {"at": at, "plain": 7}), strict=True
        )
    ]
    assert plan.arguments({"at": at, "plain": 7}) == general
