"""Channel cursors: where each channel's periodic order pull goes on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 17:10:35.251529
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_cursors",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_cursors_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("channel_id", "kind", name=op.f("pk_channel_cursors")),
    )


def downgrade() -> None:
    op.drop_table("channel_cursors")
