"""The event bus across processes: Redis pub/sub, one listener connection per process.

The listener subscribes to the topics this process has local subscribers for, and only
those (a process nobody listens to, a worker say, receives nothing): a topic is subscribed
when its first local subscriber arrives and unsubscribed once its last has gone. Each
message feeds the local fan-out, so a process holds one pub/sub connection whatever its
number of subscribers. redis-py's health check does not reconnect a pub/sub connection,
so the listener does: on any connection error it backs off, connects again and
subscribes again. Messages published while it was away are lost — pub/sub is a live
hint; clients re-query on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.bus.fanout import FanOut, LocalSubscription, decode_payload, encode_payload
from adapters.logging import get_logger

log = get_logger(__name__)
_RECONNECT_MIN_SECONDS = 0.05
_RECONNECT_MAX_SECONDS = 2.0
_SOCKET_TIMEOUT_SECONDS = 2.0
_CLOSE_TIMEOUT_SECONDS = 2.0


def default_prefix(url: str) -> str:
    """The channels' prefix: Redis's pub/sub ignores the database number, so two hubs sharing
    a server on different databases would hear each other's events without it."""
    parts = urlsplit(url)
    db = parse_qs(parts.query).get("db", [""])[0] or parts.path.strip("/") or "0"
    if parts.scheme == "unix" and not parse_qs(parts.query).get("db"):
        db = "0"  # the path is the socket's
    return f"nexo:{db}:"


class RedisEventBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str | None = None,
        max_queued: int = 1000,
        socket_timeout: float = _SOCKET_TIMEOUT_SECONDS,
    ):
        self.fanout = FanOut(max_queued)
        self._url = url
        self._prefix = prefix if prefix is not None else default_prefix(url)
        self._socket_timeout = socket_timeout
        # Publishing runs after a commit: a Redis that stops answering must fail it, not hang it.
        self._publisher = aioredis.Redis.from_url(
            url,
            health_check_interval=30,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: PubSub | None = None  # the listener's, while it is connected
        self._asked: set[str] = set()  # channels a SUBSCRIBE was sent for (and not undone)
        self._pending: Counter[str] = Counter()  # SUBSCRIBEs sent, not yet confirmed
        self._confirmed: set[str] = set()  # channels Redis confirmed (and still asked)
        self._changed = asyncio.Condition()
        self.reconnects = 0

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="nexo-bus-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        # aclose() can hang on a dead connection (redis-py #3941).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._publisher.aclose(), _CLOSE_TIMEOUT_SECONDS)

    async def ping(self) -> bool:
        return bool(await self._publisher.ping())

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        await self._publisher.publish(self._prefix + topic, encode_payload(payload))

    async def publish_many(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        if len(events) == 1:
            await self.publish(*events[0])
            return
        async with self._publisher.pipeline(transaction=False) as pipe:
            for topic, payload in events:
                pipe.publish(self._prefix + topic, encode_payload(payload))
            await pipe.execute()

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[LocalSubscription]:
        async with self.fanout.subscribe(topic) as subscription:
            try:
                await self._ask(self._prefix + topic)
            except Exception as exc:
                # The listener's connection is failing: it reconnects and subscribes then.
                log.warning("bus.subscribe_failed", topic=topic, error=repr(exc))
            yield subscription
        # The listener unsubscribes the topic once it has no local subscriber left.

    async def wait_subscribed(self, topic: str) -> None:
        """Return once the listener is connected and, if this process has subscribers to
        `topic`, subscribed to it: a publish from now on reaches them."""
        channel = self._prefix + topic

        def ready() -> bool:
            if self._pubsub is None:
                return False
            if not self.fanout.subscriber_count(topic):
                return True
            return channel in self._confirmed and not self._pending[channel]

        async with self._changed:
            await self._changed.wait_for(ready)

    async def _ask(self, channel: str) -> None:
        """Subscribe the listener's connection to `channel` unless it is already (a
        connection made later subscribes every topic with local subscribers itself)."""
        pubsub = self._pubsub
        if pubsub is None or channel in self._asked:
            return
        self._asked.add(channel)
        self._pending[channel] += 1
        # Only sends: the listener reads the confirmation.
        await pubsub.subscribe(channel)

    async def _tidy(self, pubsub: PubSub) -> None:
        """Unsubscribe the channels this process no longer has subscribers for."""
        for channel in list(self._asked):
            if self.fanout.subscriber_count(channel.removeprefix(self._prefix)):
                continue
            self._asked.discard(channel)
            self._confirmed.discard(channel)
            await pubsub.unsubscribe(channel)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _listen(self) -> None:
        delay = _RECONNECT_MIN_SECONDS
        while True:
            client = aioredis.Redis.from_url(self._url, socket_connect_timeout=self._socket_timeout)
            pubsub = client.pubsub()
            try:
                await pubsub.ping()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    await self._tidy(pubsub)
                    if message is None:
                        continue
                    kind = message["type"]
                    if kind == "pong" and self._pubsub is None:
                        # Connected: subscribe what local subscribers wait for.
                        self._pubsub = pubsub
                        for topic in self.fanout.topics():
                            await self._ask(self._prefix + topic)
                        delay = _RECONNECT_MIN_SECONDS
                        await self._notify()
                    elif kind == "subscribe":
                        channel = _text(message["channel"])
                        self._pending[channel] -= 1
                        if channel in self._asked:
                            self._confirmed.add(channel)
                        await self._notify()
                    elif kind == "message":
                        self._dispatch(message["channel"], message["data"])
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("bus.listener_disconnected", error=str(exc), retry_in=delay)
            except Exception as exc:
                # Whatever happens, the listener lives on: one process's live updates depend on it.
                log.error("bus.listener_failed", error=repr(exc), retry_in=delay, exc_info=True)
            finally:
                # Not subscribed any more (cancelled included) until the next pong says so.
                self._pubsub = None
                self._asked.clear()
                self._pending.clear()
                self._confirmed.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), _CLOSE_TIMEOUT_SECONDS)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), _CLOSE_TIMEOUT_SECONDS)
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    def _dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        # Anyone with access to Redis can publish here: a bad message is dropped, never fatal.
        try:
            name = channel.decode() if isinstance(channel, bytes) else channel
        except UnicodeDecodeError:
            log.warning("bus.undecodable_channel", channel=repr(channel))
            return
        payload = decode_payload(data)
        if payload is None:
            log.warning("bus.undecodable_message", channel=name)
            return
        self.fanout.deliver(name.removeprefix(self._prefix), payload)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
