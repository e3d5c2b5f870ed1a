"""Closing open sockets with a reason when the server is told to stop.

uvicorn's own shutdown drops WebSockets with 1012 and no reason, before the app's lifespan
hears of it. On SIGTERM or SIGINT this closes every open socket first (1001, going away,
with a reason: clients reconnect to another process), then hands the signal on to uvicorn,
which stops as it always does. A second signal is handed on at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from adapters.logging import get_logger

log = get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CLOSE_WITHIN_SECONDS = 5.0


@contextmanager
def closing_first_on_stop(close_all: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """While inside: a stop signal runs `close_all` (bounded) before the server hears it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only (an app under a test's thread)
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    closing: set[asyncio.Task[None]] = set()
    stopping = threading.Event()

    def hand_on(sig: int, frame: FrameType | None) -> None:
        handler = previous[sig]
        if callable(handler):
            handler(sig, frame)
        else:
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    async def close_then_hand_on(sig: int, frame: FrameType | None) -> None:
        log.info("api.stopping", signal=signal.Signals(sig).name)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(close_all(), CLOSE_WITHIN_SECONDS)
        hand_on(sig, frame)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            hand_on(sig, frame)
            return
        stopping.set()

        def start() -> None:
            task = loop.create_task(close_then_hand_on(sig, frame))
            closing.add(task)
            task.add_done_callback(closing.discard)

        loop.call_soon_threadsafe(start)

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for stop_signal, handler in previous.items():
            if signal.getsignal(stop_signal) is on_signal:
                signal.signal(stop_signal, handler)
