"""Sync engine: the outbox (one pending row per channel and key), the sync log, SKU refs.

Also the channel stock-edit policy and sync alerts (channel and message on alerts).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:38:54.224717
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'retry', 'processing', 'done', 'dead')",
            name=op.f("ck_outbox_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_outbox_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_channel_status_available",
            ["channel_id", "status", "available_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_outbox_pending_key",
            ["channel_id", "kind", "key"],
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "sync_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column(
            "keys",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_sync_log_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_log_channel_created", ["channel_id", "created_at", "id"], unique=False
        )

    with op.batch_alter_table("channel_configs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stock_edit_policy", sa.String(length=32), server_default="hub_wins", nullable=False
            )
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))

    with op.batch_alter_table("listing_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refs",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("message")
        batch_op.drop_column("channel_id")

    with op.batch_alter_table("listing_items", schema=None) as batch_op:
        batch_op.drop_column("refs")

    with op.batch_alter_table("channel_configs", schema=None) as batch_op:
        batch_op.drop_column("stock_edit_policy")

    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_log_channel_created")

    op.drop_table("sync_log")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_outbox_pending_key",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_outbox_channel_status_available")

    op.drop_table("outbox")
