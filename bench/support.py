"""What the benchmarks share: a fresh PostgreSQL database, a server process, percentiles, output."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def server_url() -> str:
    return os.environ.get("NEXO_BENCH_DATABASE_URL", DEFAULT_DATABASE)


def redis_url() -> str | None:
    value = os.environ.get("NEXO_BENCH_REDIS_URL", DEFAULT_REDIS)
    return value or None


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(server: str | None = None) -> AsyncIterator[str]:
    """A new, migrated database on `server` (default: the benchmark server); dropped afterwards."""
    from adapters.settings import Settings
    from api.cli import migrate

    server = server or server_url()
    base = make_url(server)
    name = f"nexo_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(dsn(server))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    await admin(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        # Alembic's env runs its own event loop: give it a thread.
        await asyncio.to_thread(migrate, Settings(database_url=url))
        yield url
    finally:
        await to_the_end(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def to_the_end(cleanup: Awaitable[None]) -> None:
    """Run a clean-up step to its end even when the caller is cancelled meanwhile (a run
    stopped by Ctrl-C or SIGTERM; libraries may deliver a cancellation twice); the
    cancellation is raised once the step is done."""
    step = asyncio.ensure_future(cleanup)
    cancelled = False
    while True:
        try:
            await asyncio.shield(step)
            break
        except asyncio.CancelledError:
            if step.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The process behind each running server's base URL (for its CPU time).
SERVER_PIDS: dict[str, int] = {}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(database_url: str, redis: str | None) -> Iterator[str]:
    """One `nexo serve` process (one uvicorn worker); yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    env.update(
        NEXO_DATABASE_URL=database_url,
        NEXO_ENVIRONMENT="prod",
        NEXO_LOG_LEVEL="WARNING",
        NEXO_AUTH_CACHE_SECONDS="30",
        NEXO_RATE_LIMITS="false",  # throughput is measured, not admission
    )
    if redis:
        env["NEXO_REDIS_URL"] = redis
        env["NEXO_QUEUE_NAME"] = f"nexo-bench:{uuid.uuid4().hex}"  # this run's own queue
    log = Path(tempfile.mkstemp(prefix="nexo-bench-", suffix=".log")[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    """One JSON line (machine-readable), then a table (human-readable)."""
    print(json.dumps({"benchmark": name, "results": rows, **extra}))
    if not rows:
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))
    for key, value in extra.items():
        print(f"{key}: {_fmt(value)}")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def nexo_env(database_url: str, redis: str | None, secret_key: str) -> dict[str, str]:
    """The environment of a run's Nexo processes (one for all of them: the server seals
    channel secrets with the key the worker opens them with)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    env.update(
        NEXO_DATABASE_URL=database_url,
        NEXO_ENVIRONMENT="prod",
        NEXO_LOG_LEVEL="WARNING",
        NEXO_AUTH_CACHE_SECONDS="30",
        NEXO_SECRET_KEY=secret_key,
        NEXO_RATE_LIMITS="false",  # throughput is measured, not admission
    )
    if redis:
        env["NEXO_REDIS_URL"] = redis
        # A queue of this run's own: another run's worker on the same Redis takes none of it.
        env["NEXO_QUEUE_NAME"] = f"nexo-bench:{uuid.uuid4().hex}"
    return env


async def issue_admin_key(database_url: str) -> str:
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.access import Role
    from domain.api_keys import create_api_key

    container = build_container(Settings(database_url=database_url))
    try:
        async with container.uow() as uow:
            key = (await create_api_key(uow, name="bench", role=Role.ADMIN)).secret
            await uow.commit()
    finally:
        await container.close()
    return key


GLOBAL_ID_PREFIX = "gid://nexo/"


def keys_in(answer: Any) -> Any:
    """The answer with each global id (`gid://nexo/<Type>/<key>`) replaced by its key.

    Benchmarks and tests written before global ids compare ids with the database's uuids
    and pass them on as such (inputs still take raw uuids); tests of the ids themselves read
    them as answered (tests/graphql.py: `global_ids=True`)."""
    if isinstance(answer, str) and answer.startswith(GLOBAL_ID_PREFIX):
        return answer.split("/", 4)[4]
    if isinstance(answer, dict):
        return {k: keys_in(v) for k, v in answer.items()}
    if isinstance(answer, list):
        return [keys_in(v) for v in answer]
    return answer
