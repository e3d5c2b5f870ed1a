"""Pick, pack, ship: a bin per stock level, a pick stage per order line, parcels of shipments.

`stock_levels.bin`: where a SKU's units sit at a location (pick lists walk bins in order).
`order_lines.stage`: picked / packed, between allocated and shipped (null: not picked), with a
partial index of the lines still to pick per location. `shipments.parcel_id`: the shipments of
several orders packed into one parcel share it (null: a parcel of its own, as before).

Revision ID: 0024_pickpack
Revises: 0023_zones
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0024_pickpack"
down_revision: str | None = "0023_zones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TO_PICK = "status IN ('allocated', 'partially_shipped') AND stage IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("stock_levels") as batch:
        batch.add_column(sa.Column("bin", sa.String(length=32), nullable=True))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=16), nullable=True))
    op.create_index(
        "ix_order_lines_to_pick", "order_lines", ["location_id", "placed_at"],
        postgresql_where=sa.text(TO_PICK), sqlite_where=sa.text(TO_PICK),
    )  # fmt: skip
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("parcel_id", sa.Uuid(), nullable=True))
    op.create_index("ix_shipments_parcel_id", "shipments", ["parcel_id"])


def downgrade() -> None:
    op.drop_index("ix_shipments_parcel_id", table_name="shipments")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("parcel_id")
    op.drop_index("ix_order_lines_to_pick", table_name="order_lines")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("stage")
    with op.batch_alter_table("stock_levels") as batch:
        batch.drop_column("bin")
