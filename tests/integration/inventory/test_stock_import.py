"""Stock from a CSV file: a file with any bad row changes nothing; the same file twice
applies once."""

from __future__ import annotations

from adapters.container import Container
from api.stock_csv import import_parsed, parse_stock
from domain.inventory import reservations
from tests.stockroom import SKU, stockroom

BAD = f"""sku,location,kind,quantity
{SKU},WH1,receive,10
NOPE,WH1,receive,5
{SKU},XX9,count,5
{SKU},ST1,restock,5
{SKU},WH1,count,1
{SKU},WH1,receive,-3
"""
GOOD = f"""sku,location,kind,quantity
{SKU},WH1,receive,10
{SKU},ST1,receive,3
{SKU},WH1,count,7
{SKU},ST1,receive,2
"""


async def test_a_file_with_bad_rows_changes_nothing_and_names_each_row(
    container: Container,
) -> None:
    room = await stockroom(container.uow)
    await room.receive("WH1", 4)
    await reservations.reserve(
        container.uow, sku=SKU, quantity=2, key="hold", actor="test", location_id=room.at("WH1")
    )
    before = await room.levels()

    report = await import_parsed(container.uow, parse_stock(BAD), actor="test")

    assert [(e.row, e.field) for e in report.errors] == [
        (3, "sku"), (4, "location"), (5, "kind"), (6, "quantity"), (7, "quantity"),
    ]  # fmt: skip
    assert "2 are reserved" in str(report.errors[3])  # row 2's receipt counted before it
    assert (report.applied, report.replayed) == (0, 0)
    assert await room.levels() == before
    await room.assert_ledger_matches()


async def test_importing_the_same_file_again_changes_nothing(container: Container) -> None:
    room = await stockroom(container.uow)

    first = await import_parsed(container.uow, parse_stock(GOOD), actor="test", lanes=2)
    after_first = await room.levels()
    again = await import_parsed(container.uow, parse_stock(GOOD), actor="test", lanes=2)

    assert (first.applied, first.replayed, first.errors) == (4, 0, [])
    assert after_first["WH1"] == (7, 0)  # received 10, then counted 7: in file order
    assert after_first["ST1"] == (5, 0)
    assert (again.applied, again.replayed, again.errors) == (0, 4, [])
    assert await room.levels() == after_first
    await room.assert_ledger_matches()
