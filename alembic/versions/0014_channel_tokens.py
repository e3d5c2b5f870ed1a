"""Channel tokens: a channel's OAuth access token and latest refresh token, shared by every
process so that a token is refreshed once (single-use refresh tokens are never used twice).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_tokens",
        sa.Column("channel_id", sa.Uuid(), sa.ForeignKey("channels.id"), primary_key=True),
        sa.Column("access_token", sa.LargeBinary(), nullable=True),
        sa.Column("access_digest", sa.String(64), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=True),
        sa.Column("refreshed_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("channel_tokens")
