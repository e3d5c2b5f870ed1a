"""Order lines keep their discount and the variant's cost at the time of sale (for the cost of
goods and margins in reports; existing lines take their variant's cost as it is now), and
orders, their lines and fees the day of sale (lines and fees also the order's channel and
placing time): the sales report sums lines and fees without joining their orders.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _day(column: str) -> str:
    """A timestamp's UTC day as days since 1970-01-01, on either backend."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(floor(extract(epoch FROM {column}) / 86400) AS INTEGER)"
    return f"CAST(strftime('%s', {column}) AS INTEGER) / 86400"


def _copy_sale(table: str) -> None:
    """Add the order's channel, placing time and day to `table` (lines or fees)."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("channel_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("placed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("placed_day", sa.Integer(), nullable=True))
    of_order = f"FROM orders o WHERE o.id = {table}.order_id"
    op.execute(
        f"UPDATE {table} SET channel_id = (SELECT o.channel_id {of_order}), "
        f"placed_at = (SELECT o.placed_at {of_order}), "
        f"placed_day = (SELECT o.placed_day {of_order})"
    )
    with op.batch_alter_table(table) as batch:
        for name in ("channel_id", "placed_at", "placed_day"):
            batch.alter_column(name, nullable=False)
    op.create_index(f"ix_{table}_placed_at", table, ["placed_at"])


def upgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(
            sa.Column("discount_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cost_currency", sa.String(3), nullable=True))
    op.execute(
        "UPDATE order_lines SET "
        "unit_cost_minor = (SELECT v.cost_minor FROM variants v WHERE v.sku = order_lines.sku), "
        "cost_currency = (SELECT v.currency FROM variants v WHERE v.sku = order_lines.sku) "
        "WHERE sku IS NOT NULL"
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("placed_day", sa.Integer(), nullable=True))
    op.execute(f"UPDATE orders SET placed_day = {_day('placed_at')}")
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("placed_day", nullable=False)
    _copy_sale("order_lines")
    _copy_sale("order_fees")


def downgrade() -> None:
    for table in ("order_fees", "order_lines"):
        op.drop_index(f"ix_{table}_placed_at", table_name=table)
        with op.batch_alter_table(table) as batch:
            for name in ("placed_day", "placed_at", "channel_id"):
                batch.drop_column(name)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("placed_day")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("cost_currency")
        batch.drop_column("unit_cost_minor")
        batch.drop_column("discount_minor")
