"""Dropship and 3PL hand-off: partner endpoints (URL and sealed webhook secret per location),
fulfilment requests with their webhook's delivery state, and partner API keys fenced into one
location.

Revision ID: 0025_partners
Revises: 0024_pickpack
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import JsonDocument, UtcDateTime
from alembic import op

revision: str = "0025_partners"
down_revision: str | None = "0024_pickpack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = "delivery IN ('pending', 'retry', 'processing')"
ROLES = "role IN ('admin', 'staff', 'readonly', 'partner')"
FORMER_ROLES = "role IN ('admin', 'staff', 'readonly')"
LOCATED = "(role = 'partner') = (location_id IS NOT NULL)"


def upgrade() -> None:
    op.create_table(
        "partner_endpoints",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_partner_endpoints_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_partner_endpoints")),
    )
    op.create_table(
        "fulfilment_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("lines", JsonDocument, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("shipped_at", UtcDateTime(), nullable=True),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'acknowledged', 'shipped')",
            name=op.f("ck_fulfilment_requests_status_known"),
        ),
        sa.CheckConstraint(
            "delivery IN ('pending', 'retry', 'processing', 'delivered', 'dead')",
            name=op.f("ck_fulfilment_requests_delivery_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilment_requests_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_fulfilment_requests_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_fulfilment_requests_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_requests")),
    )
    op.create_index("ix_fulfilment_requests_order_id", "fulfilment_requests", ["order_id"])
    op.create_index(
        "ix_fulfilment_requests_location_id", "fulfilment_requests",
        ["location_id", "created_at", "id"],
    )  # fmt: skip
    op.create_index(
        "ix_fulfilment_requests_undelivered", "fulfilment_requests", ["available_at"],
        postgresql_where=sa.text(UNDELIVERED), sqlite_where=sa.text(UNDELIVERED),
    )  # fmt: skip
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("location_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_keys_location_id_locations"), "locations", ["location_id"], ["id"]
        )
        batch.drop_constraint(op.f("ck_api_keys_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_api_keys_role_known"), ROLES)
        batch.create_check_constraint(op.f("ck_api_keys_partner_located"), LOCATED)


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE role = 'partner'")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("ck_api_keys_partner_located"), type_="check")
        batch.drop_constraint(op.f("ck_api_keys_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_api_keys_role_known"), FORMER_ROLES)
        batch.drop_constraint(op.f("fk_api_keys_location_id_locations"), type_="foreignkey")
        batch.drop_column("location_id")
    op.drop_index("ix_fulfilment_requests_undelivered", table_name="fulfilment_requests")
    op.drop_index("ix_fulfilment_requests_location_id", table_name="fulfilment_requests")
    op.drop_index("ix_fulfilment_requests_order_id", table_name="fulfilment_requests")
    op.drop_table("fulfilment_requests")
    op.drop_table("partner_endpoints")
