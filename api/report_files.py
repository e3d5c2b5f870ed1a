"""Every report as a CSV file, asked for in words: one catalogue for `nexo report <name>` and
`GET /reports/<name>.csv`, so the command and the download give the same bytes.

A report's parameters are named as in the download's query (`groupBy`); the command's flags
are the same names in kebab case (`--group-by`). Times are ISO dates (midnight UTC) or times
with their zone. A bad parameter is an InvalidInput naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from api import report_csv
from domain.analytics.channels import conflicts_report, sync_health
from domain.analytics.conversion import conversion_report
from domain.analytics.sales import Dimension, SalesQuery, sales_report
from domain.analytics.stock import Ranking, best_sellers, stock_cover
from domain.analytics.stockouts import stockout_report
from domain.clock import utcnow
from domain.customers.model import Customer
from domain.errors import InvalidInput

if TYPE_CHECKING:  # the command builds its parser from this module: no engine imported for it
    from adapters.container import Container

Params = Mapping[str, str]
MAX_CUSTOMERS = 100_000
CUSTOMER_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str  # as in the download's query; the command's flag is its kebab case
    help: str
    required: bool = False

    @property
    def flag(self) -> str:
        return "--" + "".join(f"-{c.lower()}" if c.isupper() else c for c in self.name)

    @property
    def dest(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class ReportFile:
    filename: str
    text: str


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    help: str
    parameters: tuple[Parameter, ...]
    make: Callable[[Container, Params], Awaitable[ReportFile]]


def moment(text: str, field: str) -> datetime:
    """An ISO date (its midnight, UTC) or an ISO time with its zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text[:40]!r} is no ISO date or time", field=field) from None
    if found.tzinfo is None:
        raise InvalidInput("a time carries its zone (e.g. Z)", field=field)
    return found


def number(params: Params, name: str, default: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{text[:40]!r} is no whole number", field=name) from None


def sales_query(
    start: str, end: str, group_by: str, currency: str | None, default_currency: str
) -> SalesQuery:
    """The sales report asked for in words."""
    names = [name.strip().lower() for name in group_by.split(",") if name.strip()]
    try:
        dimensions = tuple(Dimension(name) for name in names)
    except ValueError:
        known = ", ".join(d.value for d in Dimension)
        raise InvalidInput(f"groupBy names {known}", field="groupBy") from None
    wanted = (currency or default_currency).strip().upper()
    return SalesQuery(moment(start, "from"), moment(end, "to"), dimensions, wanted)


def _query(container: Container, params: Params, group_by: str = "") -> SalesQuery:
    return sales_query(
        params.get("from", ""), params.get("to", ""), group_by, params.get("currency"),
        container.settings.currency,
    )  # fmt: skip


def _span_name(report: str, start: datetime, end: datetime) -> str:
    return f"{report}-{start.date()}-{end.date()}.csv"


async def _sales(container: Container, params: Params) -> ReportFile:
    query = _query(container, params, params.get("groupBy", ""))
    report = await sales_report(container.uow, query)
    return ReportFile(_span_name("sales", query.start, query.end), report_csv.sales_csv(report))


async def _best_sellers(container: Container, params: Params) -> ReportFile:
    query = _query(container, params)
    by = params.get("by", "units").strip().lower()
    if by not in {r.value for r in Ranking}:
        raise InvalidInput(f"by names {', '.join(r.value for r in Ranking)}", field="by")
    found = await best_sellers(
        container.uow, query, by=Ranking(by), first=number(params, "first", 20)
    )
    text = report_csv.best_sellers_csv(found, query.currency)
    return ReportFile(_span_name("best-sellers", query.start, query.end), text)


async def _stock_cover(container: Container, params: Params) -> ReportFile:
    now = utcnow()
    found = await stock_cover(
        container.uow, now=now, window_days=number(params, "windowDays", 30),
        first=number(params, "first", 50),
    )  # fmt: skip
    return ReportFile(f"stock-cover-{now.date()}.csv", report_csv.stock_cover_csv(found))


async def _conflicts(container: Container, params: Params) -> ReportFile:
    start, end = moment(params.get("from", ""), "from"), moment(params.get("to", ""), "to")
    found = await conflicts_report(container.uow, start, end)
    return ReportFile(_span_name("conflicts", start, end), report_csv.conflicts_csv(found))


async def _sync_health(container: Container, params: Params) -> ReportFile:
    start, end = moment(params.get("from", ""), "from"), moment(params.get("to", ""), "to")
    found = await sync_health(container.uow, start, end)
    return ReportFile(_span_name("sync-health", start, end), report_csv.sync_health_csv(found))


async def _stockouts(container: Container, params: Params) -> ReportFile:
    start, end = moment(params.get("from", ""), "from"), moment(params.get("to", ""), "to")
    found = await stockout_report(container.uow, start, end, utcnow())
    return ReportFile(_span_name("stockouts", start, end), report_csv.stockouts_csv(found))


async def _conversion(container: Container, params: Params) -> ReportFile:
    start, end = moment(params.get("from", ""), "from"), moment(params.get("to", ""), "to")
    by_day = params.get("byDay", "").strip().lower()
    if by_day not in ("", "true", "false"):
        raise InvalidInput("byDay is true or false", field="byDay")
    found = await conversion_report(container.uow, start, end, by_day=by_day == "true")
    return ReportFile(_span_name("conversion", start, end), report_csv.conversion_csv(found))


async def _customers(container: Container, params: Params) -> ReportFile:
    """The customer book (merged ones left out) newest first, paged through."""
    first = number(params, "first", 10_000)
    if not 1 <= first <= MAX_CUSTOMERS:
        raise InvalidInput(f"first is 1 to {MAX_CUSTOMERS}", field="first")
    from api.schema.customers.queries import MAX_SEARCH  # (GraphQL: not for the parser)

    search = params.get("search", "").strip() or None
    if search and len(search) > MAX_SEARCH:
        raise InvalidInput(f"at most {MAX_SEARCH} characters", field="search")
    found: list[Customer] = []
    after = None
    async with container.uow(readonly=True) as uow:
        while len(found) < first:
            size = min(CUSTOMER_PAGE, first - len(found))
            page = await uow.customers.page(search=search, first=size, after=after)
            found.extend(page)
            if len(page) < size:
                break
            after = uow.customers.cursor(page[-1])
    return ReportFile("customers.csv", report_csv.customers_csv(found))


FROM = Parameter("from", "ISO date or time (UTC), inclusive", required=True)
TO = Parameter("to", "ISO date or time, exclusive", required=True)
CURRENCY = Parameter("currency", "ISO code; NEXO_CURRENCY by default")
REPORTS = {
    r.name: r
    for r in (
        Report("sales", "sales, fees, cost of goods and margin", (
            FROM, TO,
            Parameter("groupBy", "e.g. channel,day (channel, day, week, month, sku, product, "
                                 "location)"),
            CURRENCY,
        ), _sales),
        Report("best-sellers", "the SKUs that sold most, best first", (
            FROM, TO, Parameter("by", "units (default), revenue or margin"),
            Parameter("first", "how many SKUs (at most 500; 20 by default)"), CURRENCY,
        ), _best_sellers),
        Report("stock-cover", "days of cover per SKU from recent sales, shortest first", (
            Parameter("windowDays", "days of sales to measure the pace over (30 by default)"),
            Parameter("first", "how many SKUs (at most 500; 50 by default)"),
        ), _stock_cover),
        Report("conflicts", "last-unit conflicts per channel, policy and outcome",
               (FROM, TO), _conflicts),
        Report("sync-health", "each channel's API calls: outcomes and latency",
               (FROM, TO), _sync_health),
        Report("stockouts", "per channel and SKU, how long the channel showed it at 0",
               (FROM, TO), _stockouts),
        Report("conversion", "views the channels reported, orders and conversion per SKU", (
            FROM, TO, Parameter("byDay", "true: a row per day too"),
        ), _conversion),
        Report("customers", "the customer book, newest first", (
            Parameter("search", "part of a name, e-mail or phone"),
            Parameter("first", f"how many customers (at most {MAX_CUSTOMERS:,}; 10,000 by "
                               "default)"),
        ), _customers),
    )
}  # fmt: skip
