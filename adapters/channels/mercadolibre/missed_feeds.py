"""MercadoLibre's missed notifications, read as the queue the hub reads (`channel_kit/queues`).

A pointer MercadoLibre could not deliver (the hub's endpoint down, or slower than ~500 ms) is
listed by `GET /missed_feeds?app_id=` for two days: `{messages: [the notification's body…],
paging{total, offset, limit}}`. The hub's queue reader reads it every few seconds, so a lost
pointer's order is pulled within seconds rather than at the next periodic pull: each message
is stored in the inbox as the pointer itself would have been, under its `_id` — one event
with the pointer if it did arrive, and one however often the feed lists it. One read pages
through the list once; MercadoLibre deletes nothing on request (the list ages out), so
`delete` has nothing to do. Only this seller's pointers for this application are taken: one
application's feed lists every seller it serves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from adapters.channel_kit.queues import QueuedMessage
from adapters.channels.mercadolibre import notifications
from adapters.channels.mercadolibre.client import MeliClient

PER_PAGE: Final = 50  # MercadoLibre's most


class MissedFeeds:
    def __init__(self, client: MeliClient, *, seller_id: str, application_id: str) -> None:
        self._client = client
        self._seller, self._application = seller_id, application_id
        self._offset = 0
        self._read_through = False

    async def receive(self) -> list[QueuedMessage]:
        """The next page of missed pointers; empty once this read has seen them all."""
        while not self._read_through:
            params = {"app_id": self._application, "offset": str(self._offset),
                      "limit": str(PER_PAGE)}  # fmt: skip
            answer = await self._client.call("GET", "/missed_feeds", params=params,
                                             operation="readMissedFeeds")  # fmt: skip
            body: Any = answer.body if isinstance(answer.body, dict) else {}
            messages = body.get("messages")
            messages = (
                [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
            )
            total = (body.get("paging") or {}).get("total")
            self._offset += len(messages)
            if not messages or not isinstance(total, int) or self._offset >= total:
                self._read_through = True
            ours = [self._message(m) for m in messages]
            found = [m for m in ours if m is not None]
            if found:
                return found
        return []

    def _message(self, message: dict[str, Any]) -> QueuedMessage | None:
        body = json.dumps(message).encode()
        if not notifications.is_ours(body, self._seller, self._application):
            return None
        return QueuedMessage(receipt=str(message["_id"]), headers={}, body=body)

    async def delete(self, receipts: Sequence[str]) -> None:
        return None  # stored in the inbox once: the feed's copy ages out on its own
