"""The `/graphql` endpoint: Strawberry behind API-key authentication.

HTTP requests need `Authorization: Bearer <key>` (401 otherwise, before any GraphQL work);
WebSockets speak graphql-transport-ws only and authenticate in `connection_init`
(`{"authorization": "Bearer <key>"}`): a bad key closes the socket with 4403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from adapters.container import Container
from api.auth import Authenticator
from api.schema.context import Context
from domain.access import parse_bearer

_PRINCIPAL = "nexo.principal"


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="nexo"'},
    )


class NexoGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        container: Container,
        authenticator: Authenticator,
        *,
        graphiql: bool,
    ):
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=100,
        )
        self._container = container
        self._authenticate = authenticator
        self._graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._is_ide_page(scope):
            request = Request(scope, receive)
            header = request.headers.get("authorization")
            secret = parse_bearer(header)
            if secret is None:
                await _unauthorized("Missing API key: send 'Authorization: Bearer <key>'.")(
                    scope, receive, send
                )
                return
            principal = await self._authenticate(secret)
            if principal is None:
                await _unauthorized("Invalid or revoked API key.")(scope, receive, send)
                return
            scope[_PRINCIPAL] = principal
        await super().__call__(scope, receive, send)

    def _is_ide_page(self, scope: Scope) -> bool:
        if not self._graphiql or scope["method"] != "GET":
            return False
        accept = dict(scope["headers"]).get(b"accept", b"")
        query_string: bytes = scope.get("query_string", b"")
        return b"text/html" in accept and b"query=" not in query_string

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            request=request,
            response=response,
            container=self._container,
            principal=request.scope.get(_PRINCIPAL),
        )

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        principal = await self._authenticate(parse_bearer(raw if isinstance(raw, str) else None))
        if principal is None:
            raise ConnectionRejectionError()
        context.principal = principal
        return None
