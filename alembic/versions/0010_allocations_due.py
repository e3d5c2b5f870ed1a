"""Allocations due: an order's allocation recorded with the order, under a lease.

An order stored by a worker that dies before reserving it was left holding nothing until a
minute-long sweep came round; each order's due allocation is now a row written in the order's
own transaction, taken over by the sweep once its lease lapses. Orders already waiting for
stock are recorded as due now, their lease lapsed (nobody holds it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocations_due",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("due_since", UtcDateTime(), nullable=False),
        sa.Column("lease", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_allocations_due_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_allocations_due")),
    )
    op.create_index(
        "ix_allocations_due_claimed_at", "allocations_due", ["claimed_at"], unique=False
    )
    op.execute(
        "INSERT INTO allocations_due (order_id, due_since, lease, claimed_at)"
        " SELECT o.id, o.updated_at, NULL, o.updated_at FROM orders o"
        " WHERE o.status IN ('open', 'partially_allocated') AND EXISTS ("
        "  SELECT 1 FROM order_lines l"
        "  WHERE l.order_id = o.id AND l.status = 'open' AND l.sku IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_index("ix_allocations_due_claimed_at", table_name="allocations_due")
    op.drop_table("allocations_due")
