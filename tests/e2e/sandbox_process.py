"""The Shopify sandbox and `nexo worker` as real processes, for end-to-end tests of the sync.

As in tests/e2e/servers.py: output to files (a full pipe can never block a process), every
wait bounded, SIGTERM on the way out and SIGKILL only when that is ignored (or when a test
means to kill).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import NEXO, SANDBOX, START_TIMEOUT, STOP_TIMEOUT, free_port
from workers.settings import JOB_COMPLETION_WAIT_SECONDS

WORKER_STOP_TIMEOUT = JOB_COMPLETION_WAIT_SECONDS + STOP_TIMEOUT

SHOP_DOMAIN = "nexo-demo.myshopify.com"
SHOP_LOCATION = "gid://shopify/Location/1"
# What `nexo-sandbox shopify` accepts by default.
CREDENTIALS = {
    "shop_domain": SHOP_DOMAIN,
    "access_token": "shpat_sandbox",
    "api_secret": "sandbox-secret",
}
QUANTITIES_CALL = "inventorySetQuantities"


@dataclass
class Sandbox:
    """One `nexo-sandbox shopify` process and its control routes (`/_sandbox/*`)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    http: httpx.Client

    def _get(self, path: str) -> Any:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def quantities(self) -> dict[str, int]:
        """Available per SKU at the shop's location, as the shop shows it now."""
        levels = self._get("/_sandbox/state")["inventoryLevels"]
        return {
            level["sku"]: int(level["quantities"]["available"])
            for level in levels
            if level["locationId"] == SHOP_LOCATION
        }

    def calls(self) -> list[dict[str, Any]]:
        """Every Admin API call answered so far, oldest first."""
        found: list[dict[str, Any]] = self._get("/_sandbox/calls")
        return found

    def quantity_calls(self) -> int:
        """How many stock-setting calls the shop has answered (whatever the answer)."""
        return sum(QUANTITIES_CALL in (call["root_fields"] or ()) for call in self.calls())

    def faults(self, **settings: Any) -> dict[str, Any]:
        """POST /_sandbox/faults (keys as in sandbox/shopify/faults.py `configure`)."""
        response = self.http.post("/_sandbox/faults", json=settings)
        assert response.status_code == 200, response.text
        snapshot: dict[str, Any] = response.json()
        return snapshot


def _wait_until_answering(sandbox: Sandbox) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with suppress(httpx.TransportError):
            httpx.get(f"{sandbox.url}/_sandbox/state", timeout=1)
            return
        try:
            code = sandbox.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the sandbox exited with {code} before answering:\n{sandbox.log.read_text()}")
    pytest.fail(f"the sandbox did not answer within {START_TIMEOUT}s:\n{sandbox.log.read_text()}")


def _stop(
    process: subprocess.Popen[bytes], name: str, log: Path, within: float = STOP_TIMEOUT
) -> str | None:
    """SIGTERM, then SIGKILL; returns a complaint when SIGTERM was ignored for `within`."""
    if process.poll() is not None:
        return None
    process.terminate()
    process.send_signal(signal.SIGCONT)  # a frozen process acts on SIGTERM once resumed
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
        return f"{name} ignored SIGTERM for {within}s:\n{log.read_text()}"
    return None


@contextmanager
def sandbox_running(home: Path, env: dict[str, str], kind: str = "shopify") -> Iterator[Sandbox]:
    """`nexo-sandbox KIND` (Shopify's unless told) on a free port; stopped on the way out.
    (The `Sandbox` helpers read Shopify's state; another kind's test reads its own.)"""
    port = free_port()
    log = home / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SANDBOX, kind, "--host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    sandbox = Sandbox(process, url, log, httpx.Client(base_url=url, timeout=10))
    try:
        _wait_until_answering(sandbox)
        yield sandbox
        assert process.poll() is None, log.read_text()
    finally:
        sandbox.http.close()
        complaint = _stop(process, "the sandbox", log)
        if complaint:
            pytest.fail(complaint)


@dataclass
class Worker:
    """One `nexo worker` process (arq)."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def freeze(self) -> None:
        """SIGSTOP: the process stands still, its sockets stay open (answers wait unread)."""
        os.kill(self.pid, signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is handed back: a crash."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Workers:
    """The `nexo worker` processes of a test module; all stopped by `stop_all`."""

    home: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def start(self, **variables: str) -> Worker:
        """A new worker, with `variables` added to the module's environment."""
        log = self.home / f"worker-{len(self.started) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*NEXO, "worker"],
                cwd=self.home,
                env={**self.env, **variables},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        self.started.append(worker)
        return worker

    def live(self) -> list[Worker]:
        return [w for w in self.started if w.alive]

    def stop_all(self) -> list[str]:
        """Stop every worker still running; returns complaints (SIGTERM ignored)."""
        # A worker stopping lets its running jobs finish for up to JOB_COMPLETION_WAIT_SECONDS.
        complaints = [
            _stop(w.process, f"worker {w.pid}", w.log, WORKER_STOP_TIMEOUT) for w in self.started
        ]
        return [c for c in complaints if c]
