"""`customers(search:)`: found by part of an e-mail, a name in any case, or a phone however it is
written, wildcards taken literally, on both backends; on PostgreSQL through the trigram index."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from adapters.db.repositories.customers import search_clause
from adapters.db.tables import customers
from tests.integration.customers.conftest import Hub, buyer_order, match_all, take

pytestmark = pytest.mark.usefixtures("backend")


async def _names(hub: Hub, search: str) -> list[str | None]:
    async with hub.container.uow(readonly=True) as uow:
        found = await uow.customers.page(search=search, first=10, after=None)
    return sorted(c.name for c in found if c.name)


async def test_search_by_email_name_and_phone(hub: Hub) -> None:
    people = [
        ("S-1", "Ada Lovelace", "ada@x.io", "+1 (415) 555-0100"),
        ("S-2", "Bob_Smith", "bob@y.io", None),
        ("S-3", "Cy 100%", "cy@z.io", "020 7946 0958"),
    ]
    for external_id, name, email, phone in people:
        await take(hub, hub.shop, buyer_order(external_id, name=name, email=email, phone=phone))
    assert await match_all(hub) == 3

    assert await _names(hub, "LOVELACE") == ["Ada Lovelace"]
    assert await _names(hub, "ada@X.") == ["Ada Lovelace"]
    assert await _names(hub, "y.io") == ["Bob_Smith"]
    # A phone as given, or written another way: its digits are searched too.
    for phone in ("(415) 555-0100", "415-555-0100", "4155550100", "+1 415 555", "555 01"):
        assert await _names(hub, phone) == ["Ada Lovelace"], phone
    assert await _names(hub, "7946-0958") == ["Cy 100%"]
    # Wildcards are characters: "_" is Bob's underscore, "%" Cy's percent sign.
    assert await _names(hub, "_") == ["Bob_Smith"]
    assert await _names(hub, "0%") == ["Cy 100%"]
    assert await _names(hub, "nobody") == []
    # Two digits are no phone: "1-4" is text nobody holds; three make one ("141").
    assert await _names(hub, "1-4") == []
    assert await _names(hub, "1-41") == ["Ada Lovelace"]


# PostgreSQL only: SQLite has no trigram index (a search scans).
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_search_reads_the_trigram_index_on_postgresql(hub: Hub) -> None:
    statement = select(customers.c.id).where(search_clause("415-555-0100"))
    sql = statement.compile(hub.container.engine, compile_kwargs={"literal_binds": True})
    async with hub.container.engine.connect() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
    assert "ix_customers_search_text_trgm" in plan, plan
