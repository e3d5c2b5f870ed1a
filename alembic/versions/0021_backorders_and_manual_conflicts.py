"""Backorders and manual conflicts: a conflict records who resolved it, when and how, and
when its age was alerted; short lines and open manual conflicts are found by small partial
indexes, so the sweeps that look for them read nothing when there are none.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHORT = "status = 'short'"
OPEN_MANUAL = "policy = 'manual' AND resolved_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("order_conflicts") as batch:
        batch.add_column(sa.Column("resolved_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("decision", sa.Text(), nullable=True))
        batch.add_column(sa.Column("alerted_at", UtcDateTime(), nullable=True))
    op.create_index(
        "ix_order_conflicts_open_manual", "order_conflicts", ["created_at"],
        postgresql_where=sa.text(OPEN_MANUAL), sqlite_where=sa.text(OPEN_MANUAL),
    )  # fmt: skip
    op.create_index(
        "ix_order_conflicts_line_id", "order_conflicts", ["line_id"],
    )  # fmt: skip
    op.create_index(
        "ix_order_lines_short", "order_lines", ["sku"],
        postgresql_where=sa.text(SHORT), sqlite_where=sa.text(SHORT),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_order_lines_short", table_name="order_lines")
    op.drop_index("ix_order_conflicts_line_id", table_name="order_conflicts")
    op.drop_index("ix_order_conflicts_open_manual", table_name="order_conflicts")
    with op.batch_alter_table("order_conflicts") as batch:
        for name in ("alerted_at", "decision", "resolved_by", "resolved_at"):
            batch.drop_column(name)
