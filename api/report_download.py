"""Reports as CSV files over HTTP: `GET /reports/<name>.csv?from=…&to=…` (sales, best-sellers,
stock-cover, conflicts, sync-health, stockouts, customers; parameters in api/report_files.py)
with an API key (`Authorization: Bearer <key>`). The same files as `nexo report <name>` prints.

A bad query is answered 400 with the parameter at fault; an unknown report, 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.container import Container
from api.auth import Authenticator
from api.report_files import REPORTS
from domain.access import parse_bearer
from domain.errors import DomainError, InvalidInput

MAX_PARAMETER = 200


def report_download(
    container: Container, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    """The download endpoint, over the app's container and authenticator."""

    async def download(request: Request) -> Response:
        caller = await authenticator(parse_bearer(request.headers.get("authorization")))
        if caller is None:
            return JSONResponse(
                {"error": "an API key is required", "code": "UNAUTHENTICATED"}, status_code=401
            )
        if caller.partner_location is not None:
            # Reports span every location: a partner key sees its own location only.
            return JSONResponse(
                {"error": "not for a partner key", "code": "FORBIDDEN"}, status_code=403
            )
        report = REPORTS.get(request.path_params["name"])
        if report is None:
            known = ", ".join(REPORTS)
            return JSONResponse(
                {"error": f"reports: {known}", "code": "NOT_FOUND"}, status_code=404
            )
        given = request.query_params
        try:
            if any(len(v) > MAX_PARAMETER for v in given.values()):
                raise InvalidInput(f"parameters of at most {MAX_PARAMETER} characters")
            made = await report.make(container, given)
        except DomainError as error:
            body = {"error": error.message, "code": error.code.value, "field": error.field}
            return JSONResponse(body, status_code=400)
        return Response(
            made.text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
        )

    return download
