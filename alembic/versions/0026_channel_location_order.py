"""A channel's location order: `channel_locations.position`, as the merchant gave the locations.

Until now the locations read back in id order, so "the first location that can ship" was
chosen by uuid. Existing rows keep that order (all at 0, ties by id); new channels keep theirs.

Revision ID: 0026_location_order
Revises: 0025_partners
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0026_location_order"
down_revision: str | None = "0025_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_locations") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("channel_locations") as batch:
        batch.drop_column("position")
