"""Pushed quantities: what the relay sent a channel and has not heard back yet.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pushed_quantities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("pushed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_pushed_quantities_channel_id_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_quantities")),
    )
    op.create_index(
        "ix_pushed_quantities_channel_sku",
        "pushed_quantities",
        ["channel_id", "sku", "pushed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pushed_quantities_channel_sku", table_name="pushed_quantities")
    op.drop_table("pushed_quantities")
