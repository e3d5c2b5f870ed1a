"""Inbox: every verified event a channel sends, stored once per (channel, event id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 16:00:46.388087
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=True),
        sa.Column("delta", sa.Integer(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'failed', 'ignored')",
            name=op.f("ck_inbox_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_inbox_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("channel_id", "event_id", name="uq_inbox_channel_event"),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_channel_received", ["channel_id", "received_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_inbox_channel_sku_occurred", ["channel_id", "sku", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_inbox_status_received", ["status", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_status_received")
        batch_op.drop_index("ix_inbox_channel_sku_occurred")
        batch_op.drop_index("ix_inbox_channel_received")

    op.drop_table("inbox")
