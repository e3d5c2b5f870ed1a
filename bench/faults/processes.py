"""The harness's processes: its own redis-server, the marketplace sandboxes, `nexo serve` and `nexo
worker`, each a child it can kill -9, freeze and restart on the same port.

Children run in their own session (a Ctrl-C reaches the harness alone, which then stops them
in order) and die with the harness if it is killed (PR_SET_PDEATHSIG). Output goes to files:
a full pipe can never block a child.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.support import ROOT

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
NEXO = [sys.executable, "-m", "api.cli"]
SANDBOX = [sys.executable, "-m", "sandbox"]
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def http_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def redis_ready(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    return ready


@dataclass
class Child:
    """One process the harness runs; `wanted` says whether it should be running now."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], bool] | None = None  # None: alive for a second is ready
    process: subprocess.Popen[bytes] | None = None
    wanted: bool = False
    starts: int = 0
    frozen: bool = False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts} at {time.time():.3f}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.wanted, self.frozen = True, False

    def wait_ready(self, within: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + within
        while True:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.tail()}")
            if self.ready is None:
                time.sleep(1.0)
                if self.alive:
                    return
            elif self.ready():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready within {within:.0f} s:\n{self.tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs."""
        self.wanted = False
        if self.alive:
            assert self.process is not None
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def freeze(self) -> None:
        """SIGSTOP: the process stands still with its sockets open (callers wait unanswered)."""
        if self.alive:
            os.kill(self.pid, signal.SIGSTOP)
            self.frozen = True

    def thaw(self) -> None:
        if self.alive:
            os.kill(self.pid, signal.SIGCONT)
        self.frozen = False

    def stop(self) -> None:
        """SIGTERM (after SIGCONT, so a frozen one hears it), then SIGKILL."""
        self.wanted = False
        if not self.alive:
            return
        assert self.process is not None
        self.process.terminate()
        self.process.send_signal(signal.SIGCONT)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


@dataclass
class Fleet:
    """Every child of one run; `stop_all` ends them whatever happened."""

    logs: Path
    children: dict[str, Child] = field(default_factory=dict)

    def add(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        ready: Callable[[], bool] | None = None,
    ) -> Child:
        child = Child(name, argv, env, self.logs / f"{name}.log", ready)
        self.children[name] = child
        return child

    async def start(self, *names: str) -> None:
        """Start them all, then wait for each to be ready.

        Started from the event loop's own thread: PR_SET_PDEATHSIG fires when the thread
        that started a child ends, and the threads of `to_thread` come and go."""
        children = [self.children[name] for name in names]
        for child in children:
            child.start()
        await asyncio.gather(*(asyncio.to_thread(child.wait_ready) for child in children))

    def crashed(self) -> list[Child]:
        """Children that should be running and are not (exited on their own)."""
        return [c for c in self.children.values() if c.wanted and not c.alive]

    def stop_all(self) -> None:
        for child in reversed(list(self.children.values())):
            with contextlib.suppress(Exception):
                child.stop()


def redis_argv(port: int) -> list[str]:
    """A throwaway Redis: nothing saved, so a restart loses every queued job (as a crash of a
    Redis without persistence does)."""
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]


def sandbox_argv(port: int, shop: str, token: str, secret: str) -> list[str]:
    return [
        *SANDBOX,
        "shopify",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--shop",
        shop,
        "--access-token",
        token,
        "--api-secret",
        secret,
    ]


def serve_argv(port: int) -> list[str]:
    return [*NEXO, "serve", "--host", "127.0.0.1", "--port", str(port)]


def worker_argv() -> list[str]:
    return [*NEXO, "worker"]


def marketplace_argv(kind: str, port: int, options: list[str]) -> list[str]:
    """`python -m sandbox KIND` (amazon, ebay, mercadolibre) with its default account."""
    return [*SANDBOX, kind, "--host", "127.0.0.1", "--port", str(port), *options]
