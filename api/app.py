"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, WebSocketRoute

from adapters.container import Container, build_container
from adapters.logging import configure_logging, get_logger
from adapters.metrics import process_stopped
from adapters.settings import Settings, load_settings
from api.auth import Authenticator
from api.board import board_routes
from api.draining import closing_first_on_stop
from api.export_download import export_download
from api.graphql_view import NexoGraphQL
from api.health import healthz, readyz
from api.metrics_page import metrics_page
from api.packing_slip import packing_slip_page
from api.rate_limits import RateLimits
from api.report_download import report_download
from api.schema import build_schema
from api.socket_guard import SocketGuard
from api.webhooks import answer_challenge, receive_webhook
from domain.api_keys import bootstrap_admin_key
from workers.registry import JOBS

log = get_logger(__name__)

# A request leaves some cyclic garbage (graphql-core's execution state, Starlette's request
# and response: about 60 objects). At the default young threshold (700) the collector ran
# every few requests and moved the state of the requests in flight into the older
# generations, where it was scanned again: on reserveStock under load (in-process, 32
# clients) 75 µs of collection per request, 45 µs with this threshold.
YOUNG_GC_THRESHOLD = 10_000


async def _bootstrap_admin(container: Container) -> None:
    async with container.uow() as uow:
        issued = await bootstrap_admin_key(uow)
        if issued is None:
            return
        await uow.commit()
    # Shown once, on the console of whoever started the server; never logged as a field.
    print(
        f"\nNexo: no API keys yet. Bootstrap admin key (shown once, keep it):\n\n"
        f"    {issued.secret}\n\n"
        f"Use it as 'Authorization: Bearer <key>'; create others with `nexo apikey create`.\n",
        file=sys.stderr,
        flush=True,
    )


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    mounts: Sequence[BaseRoute] = (),
    on_start: Callable[[Container], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """The API. A development entry point may add routes (`mounts`) and an `on_start`
    context, entered once the container has started and left before it closes (the demo:
    sandbox/demo/)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_style)
    container = container or build_container(settings, JOBS)
    authenticator = Authenticator(container.uow, ttl=settings.auth_cache_seconds)
    rate_limits = RateLimits.from_settings(settings, container.admission)
    socket_guard = SocketGuard(
        authenticator, container.bus, recheck_seconds=settings.auth_cache_seconds
    )
    graphql = NexoGraphQL(
        build_schema(introspection=settings.is_dev),
        container,
        authenticator,
        graphiql=settings.is_dev,
        socket_guard=socket_guard,
        max_body_bytes=settings.max_request_bytes,
        rate_limits=rate_limits,
    )
    routes: list[BaseRoute] = [
        # First: Starlette tries routes in order, and nearly every request is for this one.
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page(container), methods=["GET"]),
        Route("/webhooks/{channel_id}", receive_webhook, methods=["POST"]),
        Route("/reports/{name}.csv", report_download(container, authenticator), methods=["GET"]),
        Route(
            "/packing-slips/{parcel_id:path}.html",
            packing_slip_page(container, authenticator),
            methods=["GET"],
        ),
        Route("/exports/{name}.csv", export_download(container, authenticator), methods=["GET"]),
        Route("/webhooks/{channel_id}", answer_challenge, methods=["GET"]),
        *board_routes(),
        *mounts,
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await container.start()
        guarding = asyncio.create_task(socket_guard.run(), name="nexo-socket-guard")
        try:
            async with AsyncExitStack() as stack:
                if settings.is_dev:
                    await _bootstrap_admin(container)
                if on_start is not None:
                    await stack.enter_async_context(on_start(container))
                if settings.gc_freeze:
                    gc.collect()
                    gc.freeze()
                    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
                stack.enter_context(closing_first_on_stop(socket_guard.close_all))
                log.info("api.started", environment=settings.environment.value)
                yield
        finally:
            guarding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await guarding
            await container.close()
            process_stopped(settings.prometheus_multiproc_dir)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.container = container
    app.state.authenticator = authenticator
    app.state.socket_guard = socket_guard
    app.state.rate_limits = rate_limits
    return app
