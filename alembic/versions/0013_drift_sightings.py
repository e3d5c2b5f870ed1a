"""Drift sightings: a lowered stock figure reconciliation saw on a channel, not yet decided.

A figure a channel shows below what Nexo expects may be a sale whose order has not come in.
Reconciliation records what it saw and when (with the confirmed figure it drifted from, and
when that was confirmed), and
a later run decides it once a pull that started after that has read the channel's orders.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("listing_items") as batch:
        batch.add_column(sa.Column("drift_quantity", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("drift_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("drift_from_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("drift_seen_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("listing_items") as batch:
        batch.drop_column("drift_seen_at")
        batch.drop_column("drift_from_at")
        batch.drop_column("drift_from")
        batch.drop_column("drift_quantity")
