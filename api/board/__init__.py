"""`/board`: the warehouse screen, a static page and plain JS modules (no build step).

The page holds no data and no key: it asks for an API key in the browser, then reads
`/graphql` and subscribes over graphql-transport-ws like any other client. Only the files
below are served, with a policy that lets the page talk to its own origin alone.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

_STATIC = Path(__file__).parent / "static"
_ASSETS = {
    "board.js": "text/javascript",
    "gqlws.js": "text/javascript",
    "board.css": "text/css",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def board_page(request: Request) -> Response:
    return FileResponse(_STATIC / "board.html", media_type="text/html", headers=_HEADERS)


async def board_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _ASSETS.get(name)
    if media_type is None:
        return Response("Not Found", status_code=404)
    return FileResponse(_STATIC / name, media_type=media_type, headers=_HEADERS)


def board_routes() -> list[BaseRoute]:
    return [
        Route("/board", board_page, methods=["GET"]),
        Route("/board/assets/{name}", board_asset, methods=["GET"]),
    ]
