"""Local delivery of bus messages to subscribers, each behind its own bounded queue.

Both bus adapters end here: the in-process bus publishes straight into it, the Redis bus
feeds it from one pub/sub connection per process. A subscriber that falls `max_queued`
messages behind is cut off with `SubscriberOverflow` rather than slowing anyone else.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from adapters.metrics import SUBSCRIPTIONS_OPEN

_CLOSED = object()


def encode_payload(payload: Mapping[str, Any]) -> str:
    """A payload's wire form, the same on every bus: JSON, other values (datetimes) as strings."""
    return json.dumps(dict(payload), default=str)


def decode_payload(data: str | bytes) -> dict[str, Any] | None:
    """A payload back from its wire form; None when that is not a JSON object."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class SubscriberOverflow(Exception):
    """The subscriber fell too far behind and was disconnected; it should re-query."""


class LocalSubscription:
    def __init__(self, topic: str, max_queued: int):
        self.topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_queued + 1)
        self._max = max_queued
        self.overflowed = False

    def offer(self, payload: Mapping[str, Any]) -> bool:
        """Deliver without waiting; False when the subscriber is too slow and was cut off."""
        if self.overflowed:
            return False
        if self._queue.qsize() >= self._max:
            self.overflowed = True
            self._queue.put_nowait(_CLOSED)
            return False
        self._queue.put_nowait(payload)
        return True

    def __aiter__(self) -> AsyncIterator[Mapping[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Mapping[str, Any]]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                raise SubscriberOverflow(
                    f"subscriber to {self.topic!r} fell more than {self._max} messages behind"
                )
            yield item


class FanOut:
    def __init__(self, max_queued: int = 1000):
        self._max_queued = max_queued
        self._subscribers: dict[str, set[LocalSubscription]] = defaultdict(set)
        self._joined = asyncio.Event()

    def deliver(self, topic: str, payload: Mapping[str, Any]) -> None:
        for subscriber in list(self._subscribers.get(topic, ())):
            subscriber.offer(payload)

    def topics(self) -> list[str]:
        """The topics with local subscribers."""
        return [topic for topic, subscribers in self._subscribers.items() if subscribers]

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._subscribers.get(topic, ()))
        return sum(len(s) for s in self._subscribers.values())

    async def wait_for_subscribers(self, topic: str, count: int = 1) -> None:
        """Return once `topic` has at least `count` local subscribers."""
        while self.subscriber_count(topic) < count:
            await self._joined.wait()

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[LocalSubscription]:
        subscription = LocalSubscription(topic, self._max_queued)
        self._subscribers[topic].add(subscription)
        self._joined.set()
        self._joined = asyncio.Event()
        SUBSCRIPTIONS_OPEN.labels(topic).inc()
        try:
            yield subscription
        finally:
            SUBSCRIPTIONS_OPEN.labels(topic).dec()
            # Runs on cancellation too (a client's `complete`): plain, synchronous cleanup.
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]
