"""Exports as CSV files over HTTP: `GET /exports/<stock|products|orders>.csv`, with an API key
(`Authorization: Bearer <key>`) or a signed link's `token` (the `exportLink` query): a
browser can follow a link, where it cannot send a header. A token names one export and
expires `LINK_SECONDS` after it was made; it is sealed with the credentials key, so every
API process accepts the links of every other.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.container import Container
from adapters.secrets import FernetSecretBox
from api.auth import Authenticator
from api.export_files import EXPORTS
from domain.access import parse_bearer
from domain.clock import utcnow

LINK_SECONDS: Final = 300
MAX_TOKEN: Final = 1_000


def export_token(box: FernetSecretBox, name: str, now: datetime) -> tuple[str, datetime]:
    """A token for one download of the export `name`, and when it stops working."""
    expires = now + timedelta(seconds=LINK_SECONDS)
    body = json.dumps({"export": name, "expires": expires.timestamp()}).encode()
    return box.seal(body).decode(), expires


def token_allows(box: FernetSecretBox, token: str, name: str, now: datetime) -> bool:
    if len(token) > MAX_TOKEN:
        return False
    try:
        body = json.loads(box.open(token.encode()))
    except Exception:  # not one of ours, or tampered with
        return False
    return (
        isinstance(body, dict)
        and body.get("export") == name
        and float(body.get("expires", 0)) > now.timestamp()
    )


def export_download(
    container: Container, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        name = request.path_params["name"]
        token = request.query_params.get("token")
        if token is not None:
            allowed = token_allows(container.secrets, token, name, utcnow())
        else:
            key = parse_bearer(request.headers.get("authorization"))
            allowed = await authenticator(key) is not None
        if not allowed:
            return JSONResponse(
                {"error": "an API key or a valid link is required", "code": "UNAUTHENTICATED"},
                status_code=401,
            )
        make = EXPORTS.get(name)
        if make is None:
            known = ", ".join(EXPORTS)
            return JSONResponse({"error": f"exports: {known}", "code": "NOT_FOUND"}, 404)
        made = await make(container)
        return Response(
            made.text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
        )

    return download
