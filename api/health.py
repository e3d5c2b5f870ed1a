"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The database (and Redis, when configured) answer: send traffic here.

    Channels that cannot be synced as configured are listed too, but do not make the
    process unready: it still serves everything else.
    """
    container = request.app.state.container
    checks = await container.readiness()
    ready = all(state == "ok" for state in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if ready:
        body["channels"] = await container.channel_readiness()
    return JSONResponse(body, status_code=200 if ready else 503)
