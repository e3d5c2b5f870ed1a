"""The embedded demo (`make run`): Nexo selling on every marketplace sandbox, with buyers.

`nexo-sandbox demo` (dev only) serves the app `nexo serve` serves, with the Shopify, Amazon,
eBay and MercadoLibre sandboxes mounted at `/sandbox/<kind>`; on first start it seeds a
warehouse, a channel per sandbox plus a web store, and a small catalog with stock. Then the
traffic simulator (`traffic.py`) places orders on every channel, runs flash sales, last-unit
races and outages, so the board (`/board`) shows sync, conflicts and alerts within a minute.
`POST /sandbox/traffic {"ordersPerMinute": N}` changes the pace (0 pauses it), `GET` shows
it and the orders placed per channel. Production code never imports this package.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.container import Container
from adapters.settings import load_settings
from api.app import create_app
from sandbox import SENT_PATH
from sandbox.demo.marketplaces import Sandboxes
from sandbox.demo.seed import seed_demo
from sandbox.demo.traffic import Traffic, TrafficPlan, running

TRAFFIC_PATH = "/sandbox/traffic"


class Unprefixed:
    """A sandbox served under a prefix sees the paths it would see on its own host (the
    Amazon and eBay sandboxes read `request.url.path` whole). The path as sent, prefix
    included, is kept under SENT_PATH: a request's signature covers it (the Amazon
    sandbox's SQS queue checks SigV4 against it, as SQS checks the path it was sent to)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            prefix = scope.get("root_path", "")
            path = scope["path"].removeprefix(prefix) or "/"
            scope = {**scope, "path": path, "raw_path": path.encode(), "root_path": "",
                     SENT_PATH: scope["path"]}  # fmt: skip
        await self.app(scope, receive, send)


class QuietSandboxTraffic(logging.Filter):
    """The demo's channels are sandboxes in this process: each successful call to them and
    each event they send (several a second; the board shows them) would drown the story.
    Failures, held events, the demo's scenarios and everything else still show."""

    QUIET = frozenset({"channel.call", "inbox.processed"})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.msg not in self.QUIET


class DemoSettings(BaseSettings):
    """The demo's own knobs (`nexo-sandbox demo --orders-per-minute`)."""

    model_config = SettingsConfigDict(env_prefix="NEXO_DEMO_", extra="ignore")

    orders_per_minute: float = Field(default=30.0, ge=0)


def _traffic_route(plan: TrafficPlan, traffic: list[Traffic]) -> Route:
    async def control(request: Request) -> Response:
        if request.method == "POST":
            given = await request.json()
            rate = given.get("ordersPerMinute") if isinstance(given, dict) else None
            if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
                return JSONResponse({"error": "ordersPerMinute is a number >= 0"}, 400)
            plan.orders_per_minute = float(rate)
        placed = dict(traffic[0].placed) if traffic else {}
        return JSONResponse({"ordersPerMinute": plan.orders_per_minute, "placed": placed})

    return Route(TRAFFIC_PATH, control, methods=["GET", "POST"])


def create_demo_app() -> Starlette:
    """The app `nexo serve` builds, with the sandboxes mounted, the demo seeded and its
    traffic running (uvicorn's factory in the demo's process)."""
    settings = load_settings()
    plan = TrafficPlan(orders_per_minute=DemoSettings().orders_per_minute)
    sandboxes = Sandboxes.start()
    markets = sandboxes.marketplaces()
    started: list[Traffic] = []

    @asynccontextmanager
    async def with_the_sandboxes(container: Container) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # A mounted app's lifespan is not run by Starlette: run the sandboxes' here.
            for app in sandboxes.apps():
                await stack.enter_async_context(app.router.lifespan_context(app))
            base = f"http://{settings.host}:{settings.port}"
            demo = await seed_demo(container, markets, base)
            sandboxes.shopify.webhooks.url = f"{base}/webhooks/{demo.channels['shopify']}"
            sandboxes.meli.notifier.endpoint = f"{base}/webhooks/{demo.channels['mercadolibre']}"
            traffic = Traffic(container, sandboxes, demo, base, plan)
            started.append(traffic)
            await stack.enter_async_context(running(traffic))
            yield

    mounts = [Mount(m.path, app=Unprefixed(m.app)) for m in markets]
    app = create_app(
        settings, mounts=[_traffic_route(plan, started), *mounts], on_start=with_the_sandboxes
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuietSandboxTraffic())
    return app
