"""Orders stored in one statement on PostgreSQL (`SqlOrderRepository.insert_many`).

Through SQLAlchemy a batch of orders was two `executemany` inserts (orders, then their
lines, each rendered anew for each batch size) and an update of the lines' costs. Here it is
one statement of fixed text on the driver (`DriverStatement`), the rows travelling as
arrays: the orders not already there (by channel and external id) are inserted, then their
lines, each with its variant's cost as it is now, and their first transitions (the status
they are born with). SQLite runs the plain statements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql

from adapters.db.driver import DriverStatement
from adapters.db.tables import order_lines, order_transitions, orders

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_TRANSITION_COLUMNS = ("id", "order_id", "from_status", "to_status", "actor", "reason", "at")


def _unnest(table: Table, names: Sequence[str], prefix: str) -> str:
    """The rows of `table` given as one array parameter per column (`:<prefix><name>`)."""
    arrays = ", ".join(
        f"CAST(:{prefix}{name} AS {table.c[name].type.compile(dialect=_PG)}[])" for name in names
    )
    return f"unnest({arrays}) AS {prefix}row ({', '.join(names)})"


def _statement(order_columns: Sequence[str], line_columns: Sequence[str]) -> DriverStatement:
    line_list = ", ".join(line_columns)
    return DriverStatement(
        text(f"""
    WITH stored AS (
        INSERT INTO orders ({", ".join(order_columns)})
        SELECT * FROM {_unnest(orders, order_columns, "o_")}
        ON CONFLICT (channel_id, external_id) DO NOTHING
        RETURNING id
    ), stored_lines AS (
        INSERT INTO order_lines ({line_list}, unit_cost_minor, cost_currency)
        SELECT {", ".join(f"l_row.{name}" for name in line_columns)},
               (SELECT v.cost_minor FROM variants AS v WHERE v.sku = l_row.sku),
               (SELECT v.currency FROM variants AS v WHERE v.sku = l_row.sku)
          FROM {_unnest(order_lines, line_columns, "l_")}
         WHERE l_row.order_id IN (SELECT id FROM stored)
    ), stored_transitions AS (
        INSERT INTO order_transitions ({", ".join(_TRANSITION_COLUMNS)})
        SELECT {", ".join(f"t_row.{name}" for name in _TRANSITION_COLUMNS)}
          FROM {_unnest(order_transitions, _TRANSITION_COLUMNS, "t_")}
         WHERE t_row.order_id IN (SELECT id FROM stored)
    )
    SELECT id FROM stored
    """)
    )


class OrderIntake:
    """The statement for rows shaped as `order_columns` and `line_columns` name them."""

    def __init__(self, order_columns: Sequence[str], line_columns: Sequence[str]):
        self._orders = tuple(order_columns)
        self._lines = tuple(line_columns)
        self.statement = _statement(self._orders, self._lines)

    def params(
        self,
        order_rows: Sequence[Mapping[str, Any]],
        line_rows: Sequence[Mapping[str, Any]],
        transition_rows: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, list[Any]]:
        params = {f"o_{name}": [row[name] for row in order_rows] for name in self._orders}
        params["o_shipping_address"] = [json.dumps(a) for a in params["o_shipping_address"]]
        params.update({f"l_{name}": [row[name] for row in line_rows] for name in self._lines})
        params.update(
            {f"t_{name}": [row[name] for row in transition_rows] for name in _TRANSITION_COLUMNS}
        )
        return params
