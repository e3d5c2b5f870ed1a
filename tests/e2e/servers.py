"""Running `nexo serve` as real uvicorn processes for end-to-end tests.

The same approach as tests/e2e/test_server.py: output to files (a full pipe can never block
the server), wait on /healthz, SIGTERM on the way out. Several servers start in parallel.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

_SCRIPT = Path(sys.executable).with_name("nexo")
NEXO = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "api.cli"]
_SANDBOX_SCRIPT = Path(sys.executable).with_name("nexo-sandbox")
SANDBOX = [str(_SANDBOX_SCRIPT)] if _SANDBOX_SCRIPT.exists() else [sys.executable, "-m", "sandbox"]
SERVE = [*NEXO, "serve"]
DEMO = [*SANDBOX, "demo"]  # `make run`'s demo: the app with a Shopify sandbox inside
START_TIMEOUT = 30.0
RUN_QUEUE = f"nexo:test-jobs:{os.getpid()}"
STOP_TIMEOUT = 10.0


def nexo_env(**variables: str) -> dict[str, str]:
    """The caller's environment without its `NEXO_…` variables, plus the given ones.

    Each test run gets its own job queue: runs (and benchmarks) sharing the test Redis
    database would otherwise run each other's jobs against the wrong database. A stock edit
    lowering a shop's figure is held 2 s for its order (30 s in production), so the tests'
    waits see it through. Per-key rate limits are off.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    env["NEXO_QUEUE_NAME"] = RUN_QUEUE
    env["NEXO_STOCK_EDIT_HOLD_SECONDS"] = "2"
    # Bursts of a thousand changes from one key are what these tests send on purpose:
    # admission is tested on its own (tests/api/test_rate_limits.py).
    env["NEXO_RATE_LIMITS"] = "false"
    env.update(variables)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Server:
    """One `nexo serve` process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def err(self) -> str:
        return self.stderr.read_text()

    @property
    def out(self) -> str:
        return self.stdout.read_text()

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def graphql(self, query: str, *, key: str | None) -> httpx.Response:
        with self.client(key) as http:
            return http.post("/graphql", json={"query": query})


def start(home: Path, env: dict[str, str], name: str, command: Sequence[str] = SERVE) -> Server:
    port = free_port()
    stdout, stderr = home / f"{name}.out", home / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=err,
        )
    return Server(name, process, port, stdout, stderr)


def wait_until_healthy(server: Server, within: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:
            code = server.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"{server.name} exited with {code} before it was healthy:\n{server.err}")
    pytest.fail(f"{server.name} was not healthy within {within}s:\n{server.err}")


def stop(server: Server) -> str | None:
    """Stop the server; returns a complaint when it had to be killed."""
    if server.process.poll() is not None:
        return None
    server.process.terminate()
    try:
        server.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=STOP_TIMEOUT)
        return f"{server.name} ignored SIGTERM for {STOP_TIMEOUT}s:\n{server.err}"
    return None


@contextmanager
def serving(
    home: Path,
    env: dict[str, str],
    *names: str,
    command: Sequence[str] = SERVE,
    within: float = START_TIMEOUT,
) -> Iterator[list[Server]]:
    """Start one `nexo serve` (or `command`) per name, all at once; yield them once every one
    is healthy (each `within` seconds)."""
    servers: list[Server] = []
    try:
        for name in names:
            servers.append(start(home, env, name, command))
        for server in servers:
            wait_until_healthy(server, within)
        yield servers
    finally:
        complaints = [c for c in [stop(server) for server in servers] if c]
        if complaints:
            pytest.fail("\n".join(complaints))
