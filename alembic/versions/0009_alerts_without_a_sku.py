"""Alerts without a SKU: an inbound event that could not be read names none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("sku", existing_type=sa.VARCHAR(length=64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE sku IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("sku", existing_type=sa.VARCHAR(length=64), nullable=False)
