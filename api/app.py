"""The Starlette application factory."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from adapters.container import Container, build_container
from adapters.logging import configure_logging, get_logger
from adapters.settings import Settings, load_settings
from api.auth import Authenticator
from api.demo import SANDBOX_PATH, seed_demo
from api.graphql_view import NexoGraphQL
from api.health import healthz, readyz
from api.schema import build_schema
from api.webhooks import receive_webhook
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
    settings: Settings | None = None, *, container: Container | None = None
) -> Starlette:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    container = container or build_container(settings, JOBS)
    authenticator = Authenticator(container.uow, ttl=settings.auth_cache_seconds)
    graphql = NexoGraphQL(
        build_schema(introspection=settings.is_dev),
        container,
        authenticator,
        graphiql=settings.is_dev,
    )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/webhooks/{channel_id}", receive_webhook, methods=["POST"]),
    ]
    sandbox = None
    if settings.demo:
        from sandbox.shopify import ShopifySandbox

        sandbox = ShopifySandbox(deliver_in_background=True)
        routes.append(Mount(SANDBOX_PATH, app=sandbox.app))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await container.start()
        try:
            async with AsyncExitStack() as stack:
                if settings.is_dev:
                    await _bootstrap_admin(container)
                if sandbox is not None:
                    # A mounted app's lifespan is not run by Starlette: run the sandbox's here.
                    await stack.enter_async_context(
                        sandbox.app.router.lifespan_context(sandbox.app)
                    )
                    base = f"http://{settings.host}:{settings.port}"
                    demo = await seed_demo(container, base)
                    sandbox.webhooks.url = f"{base}/webhooks/{demo.shopify_channel_id}"
                if settings.gc_freeze:
                    gc.collect()
                    gc.freeze()
                    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
                log.info("api.started", environment=settings.environment.value)
                yield
        finally:
            await container.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.container = container
    app.state.authenticator = authenticator
    return app
