"""The event bus for one process: no broker, same semantics as the Redis bus."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from adapters.bus.fanout import FanOut, LocalSubscription, encode_payload


class InProcessEventBus:
    def __init__(self, max_queued: int = 1000):
        self.fanout = FanOut(max_queued)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        # Through the wire form, as on Redis: subscribers get the same JSON-shaped values on
        # both buses, and a copy the publisher can no longer change.
        self.fanout.deliver(topic, json.loads(encode_payload(payload)))

    async def publish_many(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        for topic, payload in events:
            await self.publish(topic, payload)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[LocalSubscription]:
        return self.fanout.subscribe(topic)

    async def wait_subscribed(self, topic: str) -> None:
        return None
