"""Customer search by index on PostgreSQL, and the spells each channel showed a SKU at 0.

Customer search: a trigram index (pg_trgm, GIN) on the customers'
search text, which `customers(search:)` matches as a substring (LIKE '%…%'), so a search reads
the index rather than every customer. The search text also holds each phone's digits alone,
so a phone is found however it is written ("415-555-0100" finds "+1 (415) 555 0100").

pg_trgm ships with PostgreSQL (contrib); creating it needs a role allowed to (the database
owner, from PostgreSQL 13, as it is a trusted extension). Without it the migration goes on
without the index (a warning says so) and searches scan, as before. SQLite scans.

Stockout spells: from when a channel confirmed a SKU at 0 to when it confirmed more (the
`stockouts` report). The hub kept no history of what it published, only each listed SKU's
latest confirmed figure and time: a SKU confirmed at 0 now opens a spell at that time (it
showed 0 since then at least); spells that ended before this revision are not known.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sys
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_customers_search_text_trgm"
BATCH = 1000


def _search_text(name: str | None, email: str | None, phone: str | None) -> str | None:
    """As adapters/db/repositories/customers.py writes it (as of this revision)."""
    parts = [p.lower() for p in (name, email, phone) if p]
    digits = "".join(c for c in phone or "" if c.isdigit())
    if digits:
        parts.append(digits)
    return " | ".join(parts)[:800] or None


def _with_phone_digits(bind: Connection) -> None:
    customers = sa.table(
        "customers", sa.column("id", sa.Uuid()), sa.column("name"), sa.column("email"),
        sa.column("phone"), sa.column("search_text"),
    )  # fmt: skip
    c = customers.c
    after = None
    while True:
        stmt = sa.select(c.id, c.name, c.email, c.phone).where(c.phone.is_not(None))
        if after is not None:
            stmt = stmt.where(c.id > after)
        rows = bind.execute(stmt.order_by(c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(
            sa.update(customers)
            .where(c.id == sa.bindparam("c_id"))
            .values(search_text=sa.bindparam("text")),
            [{"c_id": r.id, "text": _search_text(r.name, r.email, r.phone)} for r in rows],
        )
        after = rows[-1].id


def _trigrams(bind: Connection) -> bool:
    """pg_trgm is there, or this role may create it."""
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as error:
        reason = str(error.orig).splitlines()[0]
        print(f"0022: pg_trgm cannot be created ({reason}): customer search without an index",
              file=sys.stderr)  # fmt: skip
        return False
    return True


def _stockout_spells() -> None:
    op.create_table(
        "stockout_spells",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_stockout_spells_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stockout_spells")),
    )
    op.create_index(
        "uq_stockout_spells_open", "stockout_spells", ["channel_id", "sku"], unique=True,
        postgresql_where=sa.text("ended_at IS NULL"), sqlite_where=sa.text("ended_at IS NULL"),
    )  # fmt: skip
    op.create_index("ix_stockout_spells_started", "stockout_spells", ["started_at"])
    items = sa.table(
        "listing_items", sa.column("listing_id", sa.Uuid()), sa.column("sku"),
        sa.column("confirmed_quantity", sa.Integer()), sa.column("confirmed_at", UtcDateTime()),
    )  # fmt: skip
    listings = sa.table("listings", sa.column("id", sa.Uuid()), sa.column("channel_id", sa.Uuid()))
    i, ln = items.c, listings.c
    out_now = (
        op.get_bind()
        .execute(
            sa.select(ln.channel_id, i.sku, sa.func.min(i.confirmed_at))
            .join(listings, ln.id == i.listing_id)
            .where(i.confirmed_quantity == 0, i.confirmed_at.is_not(None))
            .group_by(ln.channel_id, i.sku)
        )
        .all()
    )
    spells = sa.table(
        "stockout_spells", sa.column("id", sa.Uuid()), sa.column("channel_id", sa.Uuid()),
        sa.column("sku"), sa.column("started_at", UtcDateTime()),
    )  # fmt: skip
    if out_now:
        op.get_bind().execute(
            sa.insert(spells),
            [{"id": uuid.uuid4(), "channel_id": channel_id, "sku": sku, "started_at": at}
             for channel_id, sku, at in out_now],
        )  # fmt: skip


def upgrade() -> None:
    _stockout_spells()
    bind = op.get_bind()
    _with_phone_digits(bind)
    if bind.dialect.name == "postgresql" and _trigrams(bind):
        op.create_index(
            INDEX, "customers", ["search_text"], postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )  # fmt: skip


def downgrade() -> None:
    # The phones' digits stay in the search text: the older search reads past them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"DROP INDEX IF EXISTS {INDEX}"))
    op.drop_index("ix_stockout_spells_started", table_name="stockout_spells")
    op.drop_index("uq_stockout_spells_open", table_name="stockout_spells")
    op.drop_table("stockout_spells")
