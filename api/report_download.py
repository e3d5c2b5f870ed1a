"""Reports as CSV files: `GET /reports/sales.csv?from=…&to=…&groupBy=channel,day&currency=…`
with an API key (`Authorization: Bearer <key>`), and the same query for `nexo report sales`.

`from` and `to` are ISO dates (midnight UTC) or times with their zone; `groupBy` lists
dimensions by name, comma-separated. A bad query is answered 400 with the field at fault.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.container import Container
from api.auth import Authenticator
from api.report_csv import sales_csv
from domain.access import parse_bearer
from domain.analytics.sales import Dimension, SalesQuery, sales_report
from domain.errors import DomainError, InvalidInput

MAX_PARAMETER = 200


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


def sales_query(
    start: str, end: str, group_by: str, currency: str | None, default_currency: str
) -> SalesQuery:
    """The sales report asked for in words (the CLI's and the download's parameters)."""
    names = [name.strip().lower() for name in group_by.split(",") if name.strip()]
    try:
        dimensions = tuple(Dimension(name) for name in names)
    except ValueError:
        known = ", ".join(d.value for d in Dimension)
        raise InvalidInput(f"groupBy names {known}", field="groupBy") from None
    wanted = (currency or default_currency).strip().upper()
    return SalesQuery(moment(start, "from"), moment(end, "to"), dimensions, wanted)


def sales_download(
    container: Container, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    """The download endpoint, over the app's container and authenticator."""

    async def download(request: Request) -> Response:
        if await authenticator(parse_bearer(request.headers.get("authorization"))) is None:
            return JSONResponse(
                {"error": "an API key is required", "code": "UNAUTHENTICATED"}, status_code=401
            )
        given = request.query_params
        try:
            if any(len(v) > MAX_PARAMETER for v in given.values()):
                raise InvalidInput(f"parameters of at most {MAX_PARAMETER} characters")
            query = sales_query(
                given.get("from", ""), given.get("to", ""), given.get("groupBy", ""),
                given.get("currency"), container.settings.currency,
            )  # fmt: skip
            report = await sales_report(container.uow, query)
        except DomainError as error:
            body = {"error": error.message, "code": error.code.value, "field": error.field}
            return JSONResponse(body, status_code=400)
        name = f"sales-{query.start.date()}-{query.end.date()}.csv"
        return Response(
            sales_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return download
