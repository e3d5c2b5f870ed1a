"""Orders: channel fees per order, partially shipped lines, fulfilment and losing-line policy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:42:32.836294
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_fees",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel_line_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_fees_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_fees")),
    )
    with op.batch_alter_table("order_fees", schema=None) as batch_op:
        batch_op.create_index("ix_order_fees_order_id", ["order_id"], unique=False)

    with op.batch_alter_table("channel_configs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "losing_lines", sa.String(length=16), server_default="backorder", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("fulfilment", sa.String(length=32), server_default="merchant", nullable=False)
        )

    # "partially_shipped" does not fit in 16 characters.
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Before 0008 a line shipped in part stayed "allocated" (its rest is still reserved).
    op.execute("UPDATE order_lines SET status = 'allocated' WHERE status = 'partially_shipped'")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )

    with op.batch_alter_table("channel_configs", schema=None) as batch_op:
        batch_op.drop_column("fulfilment")
        batch_op.drop_column("losing_lines")

    with op.batch_alter_table("order_fees", schema=None) as batch_op:
        batch_op.drop_index("ix_order_fees_order_id")

    op.drop_table("order_fees")
