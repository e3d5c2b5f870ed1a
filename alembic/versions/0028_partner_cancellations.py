"""Cancellations of fulfilment requests: the lines withdrawn from a partner and the delivery of
the webhook telling it; a request all of whose lines were withdrawn is `cancelled`.

Revision ID: 0028_partner_cancellations
Revises: 0027_sales_rollup
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import JsonDocument, UtcDateTime
from alembic import op

revision: str = "0028_partner_cancellations"
down_revision: str | None = "0027_sales_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = "delivery IN ('pending', 'retry', 'processing')"
STATUSES = "status IN ('requested', 'acknowledged', 'shipped', 'cancelled')"
FORMER_STATUSES = "status IN ('requested', 'acknowledged', 'shipped')"


def upgrade() -> None:
    with op.batch_alter_table("fulfilment_requests") as batch:
        batch.drop_constraint(op.f("ck_fulfilment_requests_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_fulfilment_requests_status_known"), STATUSES)
    op.create_table(
        "fulfilment_cancellations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("lines", JsonDocument, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "delivery IN ('pending', 'retry', 'processing', 'delivered', 'dead')",
            name=op.f("ck_fulfilment_cancellations_delivery_known"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fulfilment_requests.id"],
            name=op.f("fk_fulfilment_cancellations_request_id_fulfilment_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilment_cancellations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_fulfilment_cancellations_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_cancellations")),
    )
    op.create_index(
        "ix_fulfilment_cancellations_request_id", "fulfilment_cancellations",
        ["request_id", "created_at"],
    )  # fmt: skip
    op.create_index(
        "ix_fulfilment_cancellations_undelivered", "fulfilment_cancellations", ["available_at"],
        postgresql_where=sa.text(UNDELIVERED), sqlite_where=sa.text(UNDELIVERED),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_fulfilment_cancellations_undelivered", table_name="fulfilment_cancellations")
    op.drop_index("ix_fulfilment_cancellations_request_id", table_name="fulfilment_cancellations")
    op.drop_table("fulfilment_cancellations")
    # A cancelled request reads as the partner last had it: requested.
    op.execute("UPDATE fulfilment_requests SET status = 'requested' WHERE status = 'cancelled'")
    with op.batch_alter_table("fulfilment_requests") as batch:
        batch.drop_constraint(op.f("ck_fulfilment_requests_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_fulfilment_requests_status_known"), FORMER_STATUSES)
