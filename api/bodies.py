"""Request bodies read with a ceiling: refused (413) before more than the ceiling is held.

A declared `Content-Length` over the ceiling is refused before anything is read; a body
sent without one (chunked) is refused as soon as what arrived passes the ceiling.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge(limit)
    return bytes(received)


def replaying(body: bytes, receive: Receive) -> Receive:
    """An ASGI `receive` that hands the app `body` (already read) whole, then the client's
    own messages (its disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
