"""The sales rollups: the sales report's figures per channel (and per SKU), day of sale and
currencies, kept by the order book's writer (appended rows, folded by a periodic job); filled
here from the orders, lines and fees already stored, one compacted row per key.

Revision ID: 0027_sales_rollup
Revises: 0026_location_order
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters.db.sales_rollup import refill_statements
from adapters.db.tables import ROLLUP_FIGURES
from alembic import op

revision: str = "0027_sales_rollup"
down_revision: str | None = "0026_location_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(name: str, key: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        key,
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("cost_currency", sa.String(length=3), nullable=False),
        sa.Column("compacted", sa.Boolean(), nullable=False),
        *(sa.Column(figure, sa.BigInteger(), nullable=False) for figure in ROLLUP_FIGURES),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_day", name, ["day"])
    op.create_index(
        f"uq_{name}_key",
        name,
        [key.name, "day", "currency", "cost_currency"],
        unique=True,
        postgresql_where=sa.text("compacted"),
        sqlite_where=sa.text("compacted"),
    )


def upgrade() -> None:
    _create("sales_rollup", sa.Column("channel_id", sa.Uuid(), nullable=False))
    _create("sales_rollup_sku", sa.Column("sku", sa.String(length=64), nullable=False))
    for statement in refill_statements():
        op.execute(statement)


def downgrade() -> None:
    for name in ("sales_rollup_sku", "sales_rollup"):
        op.drop_index(f"uq_{name}_key", table_name=name)
        op.drop_index(f"ix_{name}_day", table_name=name)
        op.drop_table(name)
