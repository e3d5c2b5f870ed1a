"""Customers and rates by day: the buyer's id on the order, channel identities matched into
customers, the audit trail of merges, unmerges and erasures; and each exchange rate kept for
the day it was set (lifetime values and sales convert at the rate of the sale's day).

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import JsonDocument, UtcDateTime
from alembic import op

revision: str = "0019"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "currency_rate_days",
        sa.Column("source", sa.String(3), primary_key=True),
        sa.Column("target", sa.String(3), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    # The rates stored so far, as rates of the day they were set.
    rates = sa.table(
        "currency_rates", sa.column("source"), sa.column("target"), sa.column("rate"),
        sa.column("updated_at", UtcDateTime()),
    )  # fmt: skip
    rows = op.get_bind().execute(sa.select(rates)).all()
    if rows:
        days = sa.table(
            "currency_rate_days", sa.column("source"), sa.column("target"),
            sa.column("day", sa.Date()), sa.column("rate"), sa.column("updated_at", UtcDateTime()),
        )  # fmt: skip
        op.bulk_insert(
            days,
            [
                {"source": r.source, "target": r.target, "day": r.updated_at.date(),
                 "rate": r.rate, "updated_at": r.updated_at}
                for r in rows
            ],
        )  # fmt: skip
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("email", sa.String(300), nullable=True),
        sa.Column("phone", sa.String(100), nullable=True),
        sa.Column("search_text", sa.String(800), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("merged_into", sa.Uuid(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("forgotten_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_customers_created_at_id", "customers", ["created_at", "id"])
    op.create_table(
        "customer_identities",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("channel_id", sa.Uuid(), sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("buyer_ref", sa.String(300), nullable=False),
        sa.Column("customer_id", sa.Uuid(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("email", sa.String(300), nullable=True),
        sa.Column("phone", sa.String(100), nullable=True),
        sa.Column("address", JsonDocument, nullable=False),
        sa.Column("email_key", sa.String(300), nullable=True),
        sa.Column("phone_key", sa.String(32), nullable=True),
        sa.Column("address_key", sa.String(64), nullable=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.Column("linked_by", sa.String(100), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("forgotten", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("channel_id", "buyer_ref", name="uq_customer_identities_channel_ref"),
    )
    for column in ("customer_id", "email_key", "phone_key", "address_key"):
        op.create_index(f"ix_customer_identities_{column}", "customer_identities", [column])
    op.create_table(
        "customer_audit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("customer_id", sa.Uuid(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_customer_audit_customer_id", "customer_audit", ["customer_id", "at"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("customer_buyer_id", sa.String(300), nullable=True))
        batch.add_column(sa.Column("customer_identity_id", sa.Uuid(), nullable=True))
    op.create_index("ix_orders_customer_identity_id", "orders", ["customer_identity_id"])
    op.create_index(
        "ix_orders_unmatched",
        "orders",
        ["placed_at"],
        postgresql_where=sa.text("customer_identity_id IS NULL"),
        sqlite_where=sa.text("customer_identity_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_unmatched", table_name="orders")
    op.drop_index("ix_orders_customer_identity_id", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("customer_identity_id")
        batch.drop_column("customer_buyer_id")
    op.drop_table("customer_audit")
    op.drop_table("customer_identities")
    op.drop_table("customers")
    op.drop_table("currency_rate_days")
