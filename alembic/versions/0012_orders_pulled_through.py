"""Orders pulled through: when each channel's last complete order pull started.

A lowered stock figure a channel reports is decided only once the channel's orders from
before it was seen are in Nexo; this mark says how far they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        batch.add_column(sa.Column("pulled_through", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        batch.drop_column("pulled_through")
