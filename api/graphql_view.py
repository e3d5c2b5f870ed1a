"""The `/graphql` endpoint: Strawberry behind API-key authentication.

HTTP requests need `Authorization: Bearer <key>` (401 otherwise, before any GraphQL work)
and a body of at most `max_request_bytes` (413 otherwise, before it is read whole);
WebSockets speak graphql-transport-ws only and authenticate in `connection_init`
(`{"authorization": "Bearer <key>"}`): a bad key closes the socket with 4403, and so does
its revocation later (at once where the event reaches this process, at the latest within
`auth_cache_seconds`; every operation on the socket re-checks the key first: see
`api/socket_guard.py`).
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
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from adapters.container import Container
from api.auth import Authenticator
from api.bodies import BodyTooLarge, read_capped, replaying
from api.rate_limits import RateLimits
from api.schema.context import Context
from api.socket_guard import REVOKED_CLOSE_CODE, SocketGuard
from domain.access import Principal, parse_bearer

_PRINCIPAL = "nexo.principal"


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="nexo"'},
    )


def _too_large(limit: int) -> JSONResponse:
    message = f"Request body over {limit} bytes."
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
        status_code=413,
    )


def _socket_secret(params: dict[str, Any] | None) -> str | None:
    raw = (params or {}).get("authorization") or (params or {}).get("Authorization")
    return parse_bearer(raw if isinstance(raw, str) else None)


class GuardedSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws under the socket guard: admitted once acknowledged, every
    operation refused (the socket closed with 4403) once its key no longer authenticates."""

    view: NexoGraphQL

    @property
    def secret(self) -> str:
        secret = _socket_secret(self.context.connection_params)
        assert secret is not None  # admitted sockets authenticated with one
        return secret

    @property
    def principal(self) -> Principal:
        principal = self.context.principal
        assert principal is not None
        return principal

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.view.socket_guard.admit(self)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        guard = self.view.socket_guard
        if self.connection_acknowledged and not await guard.still_valid(self):
            guard.leave(self)
            await self.revoke()
            return
        await super().handle_subscribe(message)

    async def revoke(self) -> None:
        await self.end(REVOKED_CLOSE_CODE, "API key revoked")

    async def end(self, code: int, reason: str) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        self.view.socket_guard.leave(self)
        await super().shutdown()


class NexoGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = GuardedSocket

    def __init__(
        self,
        schema: strawberry.Schema,
        container: Container,
        authenticator: Authenticator,
        *,
        graphiql: bool,
        socket_guard: SocketGuard,
        max_body_bytes: int,
        rate_limits: RateLimits,
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
        self.socket_guard = socket_guard
        self._max_body_bytes = max_body_bytes
        self._rate_limits = rate_limits

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
            try:
                body = await read_capped(request, self._max_body_bytes)
            except BodyTooLarge as error:
                await _too_large(error.limit)(scope, receive, send)
                return
            receive = replaying(body, receive)
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
            rate_limits=self._rate_limits,
        )

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        principal = await self._authenticate(_socket_secret(context.connection_params))
        if principal is None:
            raise ConnectionRejectionError()
        context.principal = principal
        return None
