"""Shipping zones per location, and the views channels report per SKU and day.

Zones: the countries (or regions of them) a location ships to; routing prefers a location
whose zones name the order's destination. A location with no zones ships everywhere, so
every existing location routes as before.

Views: what a channel reports as its buyers' views of the listing showing a SKU, per UTC day
(the conversion report divides orders by them).

Revision ID: 0023_zones
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0023_zones"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "location_zones",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_location_zones_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("location_id", "country", "region", name=op.f("pk_location_zones")),
    )
    op.create_table(
        "channel_views",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("views >= 0", name=op.f("ck_channel_views_views_not_negative")),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_views_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("channel_id", "sku", "day", name=op.f("pk_channel_views")),
    )
    op.create_index("ix_channel_views_day", "channel_views", ["day"])


def downgrade() -> None:
    op.drop_index("ix_channel_views_day", table_name="channel_views")
    op.drop_table("channel_views")
    op.drop_table("location_zones")
