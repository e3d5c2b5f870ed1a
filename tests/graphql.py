"""Calling the API as a client would: GraphQL over HTTP, subscriptions over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from bench.support import keys_in

RECEIVE_TIMEOUT = 5.0


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None,
    global_ids: bool = False,
) -> dict[str, Any]:
    """POST a GraphQL operation; returns the decoded body and fails on a non-200 answer."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body if global_ids else cast(dict[str, Any], keys_in(body))


def data(body: dict[str, Any], *, global_ids: bool = False) -> dict[str, Any]:
    """The `data` of a response that must have no errors (ids as `keys_in` gives them)."""
    assert not body.get("errors"), body.get("errors")
    result: dict[str, Any] = body["data"] if global_ids else keys_in(body["data"])
    return result


class GraphQLSocket:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: AsyncWebSocketSession):
        self.ws = ws
        self._next_id = 0

    async def receive(self, within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await self.ws.receive_text(timeout=within))
        return message

    async def init(self, key: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {key}"} if key else {}
        await self.ws.send_json({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        await self.ws.send_json(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return op_id

    async def next_payload(self, op_id: str, within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next `next` message's payload for `op_id`, skipping pings."""
        async with asyncio.timeout(within):
            while True:
                message = await self.receive(within)
                if message["type"] == "ping":
                    await self.ws.send_json({"type": "pong"})
                    continue
                assert message.get("id") == op_id, message
                assert message["type"] == "next", message
                payload: dict[str, Any] = keys_in(message["payload"])
                return payload

    async def complete(self, op_id: str) -> None:
        await self.ws.send_json({"id": op_id, "type": "complete"})


@asynccontextmanager
async def websocket(app: Starlette) -> AsyncIterator[GraphQLSocket]:
    """A real WebSocket to the ASGI app, in the test's own event loop."""
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://nexo.test") as client,
        aconnect_ws(
            "http://nexo.test/graphql", client, subprotocols=["graphql-transport-ws"]
        ) as ws,
    ):
        yield GraphQLSocket(ws)
