"""The network between the hub and a sandbox running in the test's process.

`httpx.ASGITransport` alone never times out: a sandbox holding a call (a timeout fault) would
hold the test for ever. Here a server that, with the request read, waits for the client to hang
up is hung up on at once, and the caller gets the `httpx.ReadTimeout` its own timeout would have
raised, only sooner. Every other call goes through as ASGITransport carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class Network(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        held = asyncio.Event()
        transport = httpx.ASGITransport(app=_watched(self._app, held))
        answer = asyncio.ensure_future(transport.handle_async_request(request))
        hung_up = asyncio.ensure_future(held.wait())
        try:
            await asyncio.wait({answer, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hung_up.cancel()
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await answer
        if answer.cancelled():
            raise httpx.ReadTimeout("the server held the call: the client hung up", request=request)
        return answer.result()


def _watched(app: ASGIApp, held: asyncio.Event) -> ASGIApp:
    """`app`, telling `held` when it waits for the client to hang up."""

    async def watched(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        read = False

        async def receive_or_hold() -> Message:
            nonlocal read
            if read:
                held.set()
                await asyncio.Event().wait()  # the disconnect comes as this call is cancelled
            message = await receive()
            read = message["type"] == "http.request" and not message.get("more_body", False)
            return message

        await app(scope, receive_or_hold, send)

    return watched
