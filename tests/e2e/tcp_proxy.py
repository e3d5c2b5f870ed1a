"""A TCP proxy in front of a server, for tests of what clients do when the network drops.

`cut()` aborts every connection through it (the peers see a reset, as when a cable is
pulled or a load balancer restarts) and refuses new ones until `mend()`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class Proxy:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._cut = False
        self._open: set[asyncio.StreamWriter] = set()

    async def _start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._open -= {writer, up_writer}

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with suppress(OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()

    async def _abort_all(self) -> None:
        self._cut = True
        for writer in list(self._open):
            writer.transport.abort()

    def cut(self) -> None:
        asyncio.run_coroutine_threadsafe(self._abort_all(), self._loop).result(timeout=5)

    def mend(self) -> None:
        self._cut = False


@contextmanager
def proxying(target_port: int) -> Iterator[Proxy]:
    proxy = Proxy(target_port)
    thread = threading.Thread(target=proxy._loop.run_forever, name="tcp-proxy", daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(proxy._start(), proxy._loop).result(timeout=5)
    try:
        yield proxy
    finally:

        async def close() -> None:
            server.close()
            await proxy._abort_all()

        asyncio.run_coroutine_threadsafe(close(), proxy._loop).result(timeout=5)
        proxy._loop.call_soon_threadsafe(proxy._loop.stop)
        thread.join(timeout=5)
