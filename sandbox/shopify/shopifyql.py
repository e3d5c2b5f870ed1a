"""`shopifyqlQuery`: the one ShopifyQL question the hub asks, product page views per day.

Shopify documents product views in ShopifyQL's `products` dataset: `view_sessions`, the
sessions with a view of the product's page, at a `product_id` grain (rows of 15 minutes,
summed with `sum(view_sessions)`). The sandbox keeps view sessions per product and UTC day
and answers the subset of the language a views reader needs, in the documented clause order:

    FROM products
      SHOW sum(view_sessions) [AS alias] | view_sessions [AS alias] [, product_id] [, day]
      [WHERE product_id = N | product_id IN (N, ...)]
      [SINCE date] [UNTIL date]            (YYYY-MM-DD, today, yesterday, -Nd; default -30d)
      [GROUP BY product_id [, day]]
      [TIMESERIES day]

Anything else (another dataset or metric, another clause, a clause out of order) is answered
as Shopify answers a query it cannot parse: `parseErrors` filled in and no `tableData`.
The table is `columns` (name, dataType, displayName) and `rows`, one JSON object per row keyed
by column name: dimensions first (GROUP BY order, then the TIMESERIES day), then the metrics.
With TIMESERIES, every day of the range is a row (0 where no product page was viewed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

Views = Mapping[tuple[int, date], int]  # (product id, UTC day) -> view sessions

DATASET: Final = "products"
METRIC: Final = "view_sessions"
DIMENSIONS: Final = {"product_id": ("IDENTITY", "Product ID"), "day": ("DAY_TIMESTAMP", "Day")}
DEFAULT_DAYS: Final = 30
# The clauses the sandbox reads, in the order ShopifyQL requires them.
CLAUSES: Final = ("FROM", "SHOW", "WHERE", "SINCE", "UNTIL", "GROUP BY", "TIMESERIES")
KNOWN_KEYWORDS: Final = (*CLAUSES, "DURING", "COMPARE TO", "HAVING", "ORDER BY", "LIMIT", "WITH",
                         "VISUALIZE")  # fmt: skip
_KEYWORD = re.compile(
    r"\b(" + "|".join(k.replace(" ", r"\s+") for k in KNOWN_KEYWORDS) + r")\b", re.IGNORECASE
)
_SHOWN = re.compile(
    r"^(?:sum\(\s*(?P<summed>\w+)\s*\)|(?P<plain>\w+))(?:\s+AS\s+(?P<alias>\w+))?$", re.IGNORECASE
)
_EQUALS = re.compile(r"^product_id\s*=\s*'?(\d+)'?$", re.IGNORECASE)
_IN = re.compile(r"^product_id\s+IN\s*\(([\d\s,']+)\)$", re.IGNORECASE)
_RELATIVE = re.compile(r"^-(\d+)d$")


class ParseError(Exception):
    pass


@dataclass
class Query:
    metric_name: str = METRIC
    shown_dimensions: list[str] = field(default_factory=list)
    products: set[int] | None = None
    since: date | None = None
    until: date | None = None
    group_by: list[str] = field(default_factory=list)
    timeseries: bool = False


def run(text: str, views: Views, today: date) -> dict[str, Any]:
    """The ShopifyqlQueryResponse for `text` (parse errors, or the table)."""
    try:
        query = parse(text, today)
    except ParseError as error:
        return {"parseErrors": [str(error)], "tableData": None}
    return {"parseErrors": [], "tableData": table(query, views, today)}


def parse(text: str, today: date) -> Query:
    clauses = _clauses(text)
    order = [CLAUSES.index(name) for name, _ in clauses]
    if order != sorted(order):
        raise ParseError("Clauses are out of order: FROM, SHOW, WHERE, SINCE, UNTIL, GROUP BY, "
                         "TIMESERIES.")  # fmt: skip
    found = dict(clauses)
    if len(found) != len(clauses):
        raise ParseError("A clause appears more than once.")
    if found.get("FROM", "").lower() != DATASET:
        raise ParseError(f"Table '{found.get('FROM', '')}' is not supported by the sandbox: "
                         f"FROM {DATASET} only.")  # fmt: skip
    if "SHOW" not in found:
        raise ParseError("SHOW is required (VISUALIZE is not supported by the sandbox).")
    query = Query()
    _show(found["SHOW"], query)
    if "WHERE" in found:
        query.products = _where(found["WHERE"])
    if "SINCE" in found:
        query.since = _date(found["SINCE"], today)
    if "UNTIL" in found:
        query.until = _date(found["UNTIL"], today)
    if "GROUP BY" in found:
        query.group_by = _group_by(found["GROUP BY"])
    if "TIMESERIES" in found:
        if found["TIMESERIES"].strip().lower() != "day":
            raise ParseError("TIMESERIES day is the only time dimension the sandbox supports.")
        query.timeseries = True
    grouped = set(query.group_by) | ({"day"} if query.timeseries else set())
    for dimension in query.shown_dimensions:
        if dimension not in grouped:
            raise ParseError(f"Dimension '{dimension}' is shown but not grouped by.")
    return query


def table(query: Query, views: Views, today: date) -> dict[str, Any]:
    last = query.until or today
    first = query.since or last - timedelta(days=DEFAULT_DAYS)
    dims = list(query.group_by)
    if query.timeseries and "day" not in dims:
        dims.append("day")
    sums: dict[tuple[Any, ...], int] = {}
    for (product, day), count in views.items():
        if first <= day <= last and (query.products is None or product in query.products):
            key = tuple(product if d == "product_id" else day for d in dims)
            sums[key] = sums.get(key, 0) + count
    if query.timeseries:
        sums = _every_day(sums, dims, first, last)
    columns = [
        {"name": d, "dataType": DIMENSIONS[d][0], "displayName": DIMENSIONS[d][1]} for d in dims
    ]
    columns.append(
        {"name": query.metric_name, "dataType": "INTEGER", "displayName": "Product view sessions"}
    )
    rows = [
        {**{d: _cell(value) for d, value in zip(dims, key, strict=True)}, query.metric_name: n}
        for key, n in sorted(sums.items(), key=lambda kv: tuple(str(v) for v in kv[0]))
    ]
    if not dims:
        rows = [{query.metric_name: sum(sums.values())}]
    return {"columns": columns, "rows": rows}


def _clauses(text: str) -> list[tuple[str, str]]:
    body = re.sub(r"--[^\n]*", " ", text).strip()
    marks = list(_KEYWORD.finditer(body))
    if not marks or marks[0].start() != 0 or marks[0].group(1).upper() != "FROM":
        raise ParseError("A query starts with FROM.")
    clauses = []
    for at, mark in enumerate(marks):
        name = re.sub(r"\s+", " ", mark.group(1)).upper()
        if name not in CLAUSES:
            raise ParseError(f"{name} is not supported by the sandbox.")
        end = marks[at + 1].start() if at + 1 < len(marks) else len(body)
        clauses.append((name, body[mark.end() : end].strip()))
    return clauses


def _show(text: str, query: Query) -> None:
    metrics = 0
    for item in (part.strip() for part in text.split(",")):
        shown = _SHOWN.match(item)
        if not shown:
            raise ParseError(f"Cannot parse '{item}' in SHOW.")
        name = (shown["summed"] or shown["plain"]).lower()
        if name in DIMENSIONS and not shown["summed"]:
            query.shown_dimensions.append(name)
        elif name == METRIC:
            metrics += 1
            query.metric_name = shown["alias"] or (f"sum_{METRIC}" if shown["summed"] else METRIC)
        else:
            raise ParseError(f"Column '{name}' is not in the {DATASET} table of the sandbox "
                             f"(it keeps {METRIC} per product_id and day).")  # fmt: skip
    if metrics != 1:
        raise ParseError(f"SHOW names {METRIC} once.")


def _group_by(text: str) -> list[str]:
    dimensions = [d.strip().lower() for d in text.split(",")]
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise ParseError(f"Unknown dimension '{dimension}' in GROUP BY.")
    return dimensions


def _where(text: str) -> set[int]:
    equals, among = _EQUALS.match(text.strip()), _IN.match(text.strip())
    if equals:
        return {int(equals[1])}
    if among:
        return {int(part.strip(" '")) for part in among[1].split(",") if part.strip(" '")}
    raise ParseError(f"Cannot parse WHERE '{text}': the sandbox filters on product_id only.")


def _date(text: str, today: date) -> date:
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    relative = _RELATIVE.match(word)
    if relative:
        return today - timedelta(days=int(relative[1]))
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ParseError(f"Invalid date '{text}'.") from None


def _every_day(
    sums: dict[tuple[Any, ...], int], dims: list[str], first: date, last: date
) -> dict[tuple[Any, ...], int]:
    at = dims.index("day")
    others = {key[:at] + key[at + 1 :] for key in sums} or ({()} if len(dims) == 1 else set())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    full = {}
    for rest in others:
        for day in days:
            key = (*rest[:at], day, *rest[at:])
            full[key] = sums.get(key, 0)
    return full


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else str(value)
