"""The sales rollup: the sales report's figures per channel, day of sale and currencies, kept
by the order book's writer (appended rows, folded by a periodic job); filled here from the
orders, lines and fees already stored, one compacted row per key.

Revision ID: 0027_sales_rollup
Revises: 0026_location_order
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.sales_rollup import refill_statement
from adapters.db.tables import ROLLUP_FIGURES
from alembic import op

revision: str = "0027_sales_rollup"
down_revision: str | None = "0026_location_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_rollup",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("cost_currency", sa.String(length=3), nullable=False),
        sa.Column("compacted", sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in ROLLUP_FIGURES),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_rollup")),
    )
    op.create_index("ix_sales_rollup_day", "sales_rollup", ["day"])
    op.create_index(
        "uq_sales_rollup_key",
        "sales_rollup",
        ["channel_id", "day", "currency", "cost_currency"],
        unique=True,
        postgresql_where=sa.text("compacted"),
        sqlite_where=sa.text("compacted"),
    )
    op.execute(refill_statement())


def downgrade() -> None:
    op.drop_index("uq_sales_rollup_key", table_name="sales_rollup")
    op.drop_index("ix_sales_rollup_day", table_name="sales_rollup")
    op.drop_table("sales_rollup")
