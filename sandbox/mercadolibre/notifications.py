"""MercadoLibre's notifications: unsigned pointers the seller's endpoint must answer 200.

Each is a POST of `{"_id", "resource": "/orders/123", "user_id", "topic", "application_id",
"attempts", "sent", "received"}` carrying no data: the receiver GETs the resource. Topics:
`orders_v2`, `items`, `shipments`, `stock-location`. Not answered 200 within ~500 ms, it is
sent again later with `attempts + 1` (~ up to 8 attempts here) and the same `_id`; some are
sent twice (a fault control). What was never answered 200 is listed by `GET /missed_feeds`
for two days. There is no signature: the only origin check MercadoLibre offers is its IP
range.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from sandbox.mercadolibre.orders import stamp

MAX_ATTEMPTS: Final = 8
RETRY_AFTER: Final = timedelta(seconds=60)
ANSWER_WITHIN: Final = 0.5  # seconds
MISSED_FOR: Final = timedelta(days=2)


@dataclass
class _Pending:
    body: dict[str, Any]
    due: datetime


class Notifier:
    def __init__(
        self,
        *,
        application_id: int,
        user_id: int,
        client: httpx.AsyncClient | None,
        now: Callable[[], datetime],
        drop: Callable[[], bool],
        duplicate: Callable[[], bool],
    ) -> None:
        self.application_id, self.user_id = application_id, user_id
        self.endpoint: str | None = None
        self._client = client or httpx.AsyncClient(timeout=5.0)
        self._own_client = client is None
        self._now = now
        self._drop, self._duplicate = drop, duplicate
        self._pending: list[_Pending] = []
        self.missed: dict[str, tuple[dict[str, Any], datetime]] = {}
        self.log: list[dict[str, Any]] = []

    def publish(self, topic: str, resource: str) -> None:
        if self.endpoint is None:
            return
        now = self._now()
        body: dict[str, Any] = {
            "_id": str(uuid.uuid4()),
            "resource": resource,
            "user_id": self.user_id,
            "topic": topic,
            "application_id": self.application_id,
            "attempts": 1,
            "sent": stamp(now),
            "received": stamp(now),
        }
        if self._drop():
            self.missed[body["_id"]] = (body, now)  # never reached the seller
            return
        self._pending.append(_Pending(body, now))
        if self._duplicate():
            self._pending.append(_Pending(json.loads(json.dumps(body)), now))

    async def deliver_due(self) -> int:
        """POST what is due; what is not answered 200 in time is sent again later."""
        now = self._now()
        due = [p for p in self._pending if p.due <= now]
        self._pending = [p for p in self._pending if p.due > now]
        for pending in due:
            body = pending.body
            body["sent"] = stamp(now)
            started = time.monotonic()
            try:
                answer = await self._client.post(self.endpoint or "", json=body)
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            late = time.monotonic() - started > ANSWER_WITHIN
            self.log.append(
                {"id": body["_id"], "status": status, "late": late, "attempts": body["attempts"]}
            )
            if status == 200 and not late:
                self.missed.pop(body["_id"], None)
                continue
            self.missed[body["_id"]] = (body, now)
            if body["attempts"] < MAX_ATTEMPTS:
                again = {**body, "attempts": body["attempts"] + 1}
                self._pending.append(_Pending(again, now + RETRY_AFTER))
        return len(due)

    def missed_feeds(self, topic: str | None, offset: int, limit: int) -> dict[str, Any]:
        """`GET /missed_feeds?app_id=&topic=`: the notifications not answered 200 lately."""
        since = self._now() - MISSED_FOR
        found = [
            b
            for b, at in self.missed.values()
            if at >= since and (topic is None or b["topic"] == topic)
        ]
        return {
            "messages": found[offset : offset + limit],
            "paging": {"total": len(found), "offset": offset, "limit": limit},
        }

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()
