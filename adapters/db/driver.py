"""The hottest statements, sent on the asyncpg connection itself (PostgreSQL only).

SQLAlchemy's execution of a statement costs far more CPU than the driver's (measured: about
65 µs against 15 µs per statement: compiled-cache lookup, execution context, a greenlet,
result wrapping), which shows on the reservation path, where a request is a few statements.
A `DriverStatement` is compiled by SQLAlchemy once, for the connection's dialect, and then
run like SQLAlchemy runs it: the same SQL text, the parameters through the same bind
processors, rows through the same result processors, inside the unit of work's transaction
(begun the way SQLAlchemy begins it, on the same connection), under the adapter's mutex.
Errors are translated into SQLAlchemy's exception types, as `connection.execute` raises them.

This reaches into SQLAlchemy's asyncpg adapter (`_transaction`, `_start_transaction`,
`_execute_mutex`, `_connection`); when those are not there, statements go through
`connection.execute` instead. The tests run both ways and compare.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIModule

_Processor = Callable[[Any], Any] | None


class _Plan:
    __slots__ = (
        "binds", "bound", "columns", "dialect", "row", "sql", "statement_params", "take",
    )  # fmt: skip

    def __init__(self, statement: Any, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        self.dialect = dialect
        self.sql: str = compiled.string
        processors: Mapping[str, _Processor] = compiled._bind_processors
        names: Sequence[str] = compiled.positiontup or ()
        self.binds = tuple((name, processors.get(name)) for name in names)
        self.statement_params = compiled.construct_params
        # Most statements only name their parameters: they are taken from the mapping as
        # they are, in order, and only those with a bind processor go through it.
        self.take = _taker(compiled, names)
        self.bound = tuple((i, p) for i, (_, p) in enumerate(self.binds) if p is not None)
        result_columns = compiled._result_columns
        columns = [column.type._cached_result_processor(dialect, None) for column in result_columns]
        self.columns: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, p) for i, p in enumerate(columns) if p is not None
        )
        # Typed columns (a select) are known now; a text statement's come with its first rows.
        keys = [column.keyname for column in result_columns]
        self.row: Callable[..., Any] | None = _row_type(keys) if keys else None

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The statement's positional arguments, as SQLAlchemy sends them."""
        if self.take is None:
            values = self.statement_params(params)
            return [
                value if processor is None else processor(value)
                for name, processor in self.binds
                for value in (values[name],)
            ]
        try:
            arguments = self.take(params)
        except KeyError as missing:
            raise exc.InvalidRequestError(
                f"A value is required for bind parameter {missing.args[0]!r}", code="cd3x"
            ) from None
        for index, processor in self.bound:
            arguments[index] = processor(arguments[index])
        return arguments

    def record(self, record: Any) -> list[Any]:
        """A fetched record's values through the columns' result processors."""
        values = list(record)
        for index, processor in self.columns:
            values[index] = processor(values[index])
        return values


def _taker(compiled: Any, names: Sequence[str]) -> Callable[[Mapping[str, Any]], list[Any]] | None:
    """Reads a statement's positional arguments straight from the caller's mapping, when
    SQLAlchemy's `construct_params` would do no more than that: each parameter named once
    by its own key, a value required for each (no default, callable, expanding or
    escaped parameter), nothing collected or rendered after compiling. None otherwise."""
    parameters = compiled.bind_names
    plain = (
        not compiled.escaped_bind_names
        and not compiled.literal_execute_params
        and not compiled.post_compile_params
        and getattr(compiled, "_render_postcompile", True) is False
        and not getattr(compiled, "_collected_params", True)
        and len(set(names)) == len(names) == len(parameters)
        and all(
            bind.key == name and bind.required and bind.callable is None and not bind.expanding
            for bind, name in parameters.items()
        )
        and set(names) == set(parameters.values())
    )
    if not plain:
        return None
    if not names:
        return lambda _: []
    if len(names) == 1:
        (only,) = names
        return lambda params: [params[only]]
    getter = itemgetter(*names)
    return lambda params: list(getter(params))


class DriverStatement:
    """A statement run with the driver under SQLAlchemy's transaction; see the module doc."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._plan: _Plan | None = None

    def _plan_for(self, dialect: Dialect) -> _Plan:
        plan = self._plan
        if plan is None or plan.dialect is not dialect:
            plan = self._plan = _Plan(self.statement, dialect)
        return plan

    async def rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        """The rows, like `(await conn.execute(statement, params)).all()`."""
        adapter = _asyncpg_adapter(conn)
        if adapter is None:
            return list((await conn.execute(self.statement, params)).all())
        plan = self._plan_for(conn.dialect)
        arguments = plan.arguments(params)
        if not conn.in_transaction():
            await conn.begin()  # SQLAlchemy's autobegin, so its commit and rollback apply
        try:
            async with adapter._execute_mutex:
                try:
                    if adapter._transaction is None:
                        await adapter._start_transaction()  # BEGIN, as SQLAlchemy sends it
                    records = await adapter._connection.fetch(plan.sql, *arguments)
                except Exception as error:
                    raise _translated(adapter, plan, arguments, error) from error
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                # As SQLAlchemy does: a lost connection never goes back to the pool.
                await conn.invalidate(error.orig)
            raise
        if not records:
            return []
        row = plan.row
        if row is None:
            row = plan.row = _row_type(list(records[0].keys()))
        if not plan.columns:
            return [row(*record) for record in records]
        return [row(*plan.record(record)) for record in records]

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Any | None:
        """The first row or None, like `(await conn.execute(statement, params)).first()`."""
        rows = await self.rows(conn, params)
        return rows[0] if rows else None


def _row_type(keys: list[str]) -> Callable[..., Any]:
    """Rows read by attribute, as SQLAlchemy's are."""
    return namedtuple("Row", keys, rename=True)


def _asyncpg_adapter(conn: AsyncConnection) -> Any | None:
    """SQLAlchemy's asyncpg connection adapter under `conn`, when it is one we can drive."""
    if conn.dialect.driver != "asyncpg":
        return None
    if conn.sync_connection is None:
        return None
    try:
        # The pool connection, already checked out: no I/O (an invalidated one would need
        # some, which SQLAlchemy's own path then does).
        adapter = conn.sync_connection.connection.dbapi_connection
    except Exception:
        return None
    kind = type(adapter)
    drivable = _DRIVABLE.get(kind)
    if drivable is None:
        drivable = _DRIVABLE[kind] = all(hasattr(adapter, name) for name in _ADAPTER_PARTS)
    return adapter if drivable else None


_ADAPTER_PARTS = (
    "_transaction",
    "_start_transaction",
    "_execute_mutex",
    "_connection",
    "_handle_exception",
)
_DRIVABLE: dict[type, bool] = {}  # per adapter class: has the parts above


def _translated(adapter: Any, plan: _Plan, arguments: list[Any], error: Exception) -> Exception:
    """The exception `connection.execute` would raise for this driver error."""
    try:
        adapter._handle_exception(error)  # raises the DBAPI-level translation
    except Exception as dbapi_error:
        return exc.DBAPIError.instance(
            plan.sql,
            tuple(arguments),
            dbapi_error,
            plan.dialect.loaded_dbapi.Error,
            dialect=plan.dialect,
            # Typed for the driver module's `Error`; is_disconnect checks the type itself.
            connection_invalidated=plan.dialect.is_disconnect(
                cast("DBAPIModule.Error", dbapi_error), adapter, None
            ),
        )
    return error  # pragma: no cover - _handle_exception always raises
