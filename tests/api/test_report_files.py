"""Every report as a CSV file: `GET /reports/<name>.csv` and `nexo report <name>` give the same
bytes, each figure the hand-worked one (the month of tests/integration/analytics), and text a
spreadsheet would run as a formula is written as text while numbers stay numbers."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert

from adapters.container import Container
from adapters.db.tables import stockout_spells
from adapters.settings import Settings
from api.cli import main
from api.report_csv import cell
from api.report_files import Parameter
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.clock import utcnow
from domain.customers.linking import match_buyers
from domain.inventory import setup
from domain.money import Money
from domain.orders.ingest import ingest
from domain.sync.model import CallOutcome, SyncCall
from tests.graphql import data, gql
from tests.integration.analytics.conftest import Sales, hub, sales
from tests.integration.customers.conftest import container
from tests.integration.orders.conftest import T0, Hub, channel_order

# No periodic jobs (the customer book's container): buyers are matched when a test says so.
__all__ = ["container", "hub", "sales"]

pytestmark = pytest.mark.usefixtures("app")

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


class Files:
    """Downloads a report and prints it with the command: the two must be the same bytes."""

    def __init__(
        self, http: httpx.AsyncClient, key: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.http, self.key, self.capsys = http, key, capsys

    async def rows(self, name: str, **params: str) -> list[dict[str, str]]:
        got = await self.http.get(
            f"/reports/{name}.csv", params=params, headers={"Authorization": f"Bearer {self.key}"}
        )
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("text/csv")
        flags = [a for k, v in params.items() for a in (Parameter(k, "").flag, v)]
        assert await asyncio.to_thread(main, ["report", name, *flags]) == 0
        assert self.capsys.readouterr().out == got.text
        return list(csv.DictReader(io.StringIO(got.text)))


@pytest.fixture
def files(
    http: httpx.AsyncClient, readonly_key: str, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> Files:  # fmt: skip
    monkeypatch.setenv("NEXO_DATABASE_URL", settings.database_url)
    return Files(http, readonly_key, capsys)


async def test_sales_best_sellers_and_stock_cover_files(sales: Sales, files: Files) -> None:
    by_sku = await files.rows("sales", **MARCH, groupBy="sku")
    # A: 36.00 net, 16.00 cogs; B: 11.00 net, 2.20 fee, 4.40 cogs; PART-1: 10.00, no cost;
    # the orders' own fees (1.50 + 1.00 EUR = 1.10) belong to no SKU: a margin of -2.60.
    assert [(r["sku"], r["net_revenue"], r["channel_fees"], r["gross_margin"],
             r["margin_percent"]) for r in by_sku] == [
        ("A-1", "36.00", "0.00", "20.00", "55.56"),
        ("B-1", "11.00", "2.20", "4.40", "40.00"),
        ("PART-1", "10.00", "0.00", "10.00", "100.00"),
        ("", "0.00", "2.60", "-2.60", ""),
        ("total", "57.00", "4.80", "31.80", "55.79"),
    ]  # fmt: skip

    best = await files.rows("best-sellers", **MARCH, by="margin", first="2")
    assert [(r["rank"], r["sku"], r["currency"], r["units_sold"], r["gross_margin"])
            for r in best] == [("1", "A-1", "USD", "2", "20.00"),
                               ("2", "PART-1", "USD", "2", "10.00")]  # fmt: skip

    # Nothing sold in the last 30 days (the month is long past): no cover figure. Available:
    # A 10 - 2 shipped - 1 held by April's order; B 10 - 1 shipped; PART-1 10 - 2 held.
    cover = await files.rows("stock-cover", windowDays="30")
    assert sorted((r["sku"], r["available"], r["sold"], r["per_day"], r["days"])
                  for r in cover) == [("A-1", "7", "0", "0.00", ""), ("B-1", "9", "0", "0.00", ""),
                                      ("PART-1", "8", "0", "0.00", "")]  # fmt: skip


async def test_conflicts_and_sync_health_files_and_a_formula_sku(hub: Hub, files: Files) -> None:
    formula = "=HYPERLINK(evil)"  # a SKU may hold any character but a space
    async with hub.container.uow() as uow:
        await setup.create_inventory_item(uow, sku=formula)
        await uow.commit()
    await hub.receive(1, sku=formula)
    await hub.take(hub.shop, channel_order("S-1", [(formula, 1)], placed=T0))
    later = T0 + timedelta(seconds=5)
    await hub.take(hub.market, channel_order("E-1", [(formula, 1)], placed=later))
    latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]
    outcomes = [CallOutcome.OK] * 7 + [CallOutcome.THROTTLED] * 2 + [CallOutcome.FAILED]
    async with hub.container.uow() as uow:
        await uow.sync_log.add([
            SyncCall(uuid.uuid4(), hub.shop, "push_quantities", ("SKU",), outcome, 1, ms, None,
                     T0 + timedelta(seconds=n))
            for n, (outcome, ms) in enumerate(zip(outcomes, latencies, strict=True))
        ])  # fmt: skip
        await uow.commit()
    today = utcnow().date()
    span = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}

    # The market's order lost the last unit (first come: the shop's was placed first).
    conflicts = await files.rows("conflicts", **span)
    assert conflicts == [{"channel": str(hub.market), "policy": "first_come",
                          "outcome": "short", "conflicts": "1", "units": "1"}]  # fmt: skip

    # 7 ok, 2 throttled, 1 failed: 30 % failed; mean (450 + 1000) / 10 = 145 ms; p95 the 10th.
    around = {"from": str(T0.date()), "to": str(T0.date() + timedelta(days=1))}
    [health] = await files.rows("sync-health", **around)
    assert health == {
        "channel": str(hub.shop), "calls": "10", "failure_percent": "30.00", "ok": "7",
        "partial": "0", "rejected": "0", "throttled": "2", "failed": "1", "dead": "0",
        "average_ms": "145", "p95_ms": "1000", "max_ms": "1000",
    }  # fmt: skip

    # The SKU is shown as text (an apostrophe first); its figures stay numbers: 2 x 10.00
    # ordered, the market's unit short (not cancelled: still ordered, not sold yet).
    by_sku = await files.rows("sales", **around, groupBy="sku")
    assert [(r["sku"], r["units_ordered"], r["gross_revenue"]) for r in by_sku] == [
        ("'" + formula, "2", "20.00"), ("total", "2", "20.00")
    ]  # fmt: skip
    best = await files.rows("best-sellers", **around)
    assert [r["sku"] for r in best] == ["'" + formula]


async def test_stockouts_file_and_field(hub: Hub, files: Files) -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    spells = [  # the shop showed A at 0 for 1.5 h, then from 20:00 on; the market, B for 1 h
        (hub.shop, "A", day + timedelta(hours=3), day + timedelta(hours=4.5)),
        (hub.shop, "A", day + timedelta(hours=20), None),
        (hub.market, "B", day - timedelta(hours=1), day + timedelta(hours=1)),
        (hub.market, "B", day + timedelta(days=1), None),  # after the span
    ]
    async with hub.container.engine.begin() as conn:
        await conn.execute(insert(stockout_spells), [
            {"id": uuid.uuid4(), "channel_id": c, "sku": sku, "started_at": start,
             "ended_at": end} for c, sku, start, end in spells
        ])  # fmt: skip

    found = await files.rows("stockouts", **{"from": "2026-03-01", "to": "2026-03-02"})

    # A: 1.5 h + 4 h (20:00 to the span's end) = 19,800 s, still out; B: 0:00 to 1:00.
    assert found == [
        {"channel": str(hub.shop), "sku": "A", "spells": "2", "seconds": "19800",
         "out_now": "true"},
        {"channel": str(hub.market), "sku": "B", "spells": "1", "seconds": "3600",
         "out_now": "false"},
    ]  # fmt: skip
    query = 'query { stockouts(from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z") '
    body = await gql(files.http, query + "{ channelId sku spells seconds outNow } }",
                     key=files.key)  # fmt: skip
    assert data(body)["stockouts"][0] == {
        "channelId": str(hub.shop), "sku": "A", "spells": 2, "seconds": 19800, "outNow": True
    }  # fmt: skip


def _order(external_id: str, name: str, email: str, phone: str | None) -> ChannelOrder:
    return ChannelOrder(
        external_id=external_id, number=external_id, updated_at=T0, placed_at=T0,
        status="paid", lines=(ChannelOrderLine(f"{external_id}-1", "PART-1", 1,
                                               Money(1000, "USD")),),
        customer={"id": external_id, "name": name, "email": email, "phone": phone},
    )  # fmt: skip


async def test_customer_names_that_look_like_formulas_are_written_as_text(
    hub: Hub, container: Container, files: Files
) -> None:
    people = [
        ("C-1", "=cmd|' /C calc'!A0", "one@example.com", None),
        ("C-2", "+Ada", "two@example.com", "+1 415 555 0100"),
        ("C-3", "-Bob", "three@example.com", None),
        ("C-4", "@SUM(A1)", "four@example.com", None),
        ("C-5", "\tTab", "five@example.com", None),
        ("C-6", "Plain O'Hara", "=six@example.com", None),
    ]
    for external_id, name, email, phone in people:
        await ingest(container.uow, hub.shop, _order(external_id, name, email, phone), actor="t")
    assert await match_buyers(container.uow) == 6

    rows = await files.rows("customers")
    found = {r["email"]: (r["name"], r["phone"]) for r in rows}
    assert found == {
        "one@example.com": ("'=cmd|' /C calc'!A0", ""),
        "two@example.com": ("'+Ada", "'+1 415 555 0100"),
        "three@example.com": ("'-Bob", ""),
        "four@example.com": ("'@SUM(A1)", ""),
        "five@example.com": ("'\tTab", ""),
        "'=six@example.com": ("Plain O'Hara", ""),
    }
    assert len(await files.rows("customers", search="example.com", first="2")) == 2


def test_a_cell_is_text_made_inert_or_a_number_as_it_is() -> None:
    from decimal import Decimal

    assert [cell(v) for v in ("=1+2", "+1", "-1", "@x", "\t1", "\r1", "a=1", "", None)] == [
        "'=1+2", "'+1", "'-1", "'@x", "'\t1", "'\r1", "a=1", "", ""
    ]  # fmt: skip
    assert [cell(v) for v in (-3, Decimal("-2.60"), Decimal("0.06"))] == ["-3", "-2.60", "0.06"]


async def test_a_bad_or_unknown_report_is_refused(
    http: httpx.AsyncClient, readonly_key: str, container: Container
) -> None:
    headers = {"Authorization": f"Bearer {readonly_key}"}
    assert (await http.get("/reports/conflicts.csv", params=MARCH)).status_code == 401
    unknown = await http.get("/reports/secrets.csv", headers=headers)
    assert unknown.status_code == 404
    for name, params, field in (
        ("best-sellers", {**MARCH, "by": "luck"}, "by"),
        ("stock-cover", {"windowDays": "soon"}, "windowDays"),
        ("stock-cover", {"windowDays": "0"}, "windowDays"),
        ("conflicts", {"from": "2026-03-01"}, "to"),
        ("customers", {"first": "0"}, "first"),
        ("customers", {"search": "a" * 101}, "search"),
    ):
        bad = await http.get(f"/reports/{name}.csv", params=params, headers=headers)
        assert (bad.status_code, bad.json()["field"]) == (400, field), name
