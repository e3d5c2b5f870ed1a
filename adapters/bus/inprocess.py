"""The event bus for one process: no broker, same semantics as the Redis bus."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from adapters.bus.fanout import FanOut, LocalSubscription


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
        self.fanout.deliver(topic, payload)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[LocalSubscription]:
        return self.fanout.subscribe(topic)

    async def wait_subscribed(self, topic: str) -> None:
        return None
