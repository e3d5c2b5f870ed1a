"""Amazon feeds in flight: the feed a relay created for a document, until its outcome is read,
so a relay started after another stopped polls that feed instead of creating it again.

Revision ID: 0029_amazon_feeds
Revises: 0028_partner_cancellations
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0029_amazon_feeds"
down_revision: str | None = "0028_partner_cancellations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "amazon_feeds",
        sa.Column("channel_id", sa.Uuid(), sa.ForeignKey("channels.id"), primary_key=True),
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("feed_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("amazon_feeds")
