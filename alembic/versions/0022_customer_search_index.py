"""Customer search by index on PostgreSQL: a trigram index (pg_trgm, GIN) on the customers'
search text, which `customers(search:)` matches as a substring (LIKE '%…%'), so a search reads
the index rather than every customer. The search text also holds each phone's digits alone,
so a phone is found however it is written ("415-555-0100" finds "+1 (415) 555 0100").

pg_trgm ships with PostgreSQL (contrib); creating it needs a role allowed to (the database
owner, from PostgreSQL 13, as it is a trusted extension). Without it the migration goes on
without the index (a warning says so) and searches scan, as before. SQLite scans.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07
"""

import sys
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
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


def upgrade() -> None:
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
