"""Fixtures shared by the whole suite: databases on both backends, Redis, the app and clients."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from adapters.container import Container, build_container
from adapters.settings import Settings
from api.app import create_app
from api.cli import migrate
from domain.access import Role
from domain.api_keys import create_api_key
from tests import services
from workers.registry import JOBS

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database for this test run (None when not configured)."""
    if not services.TEST_DATABASE_URL:
        yield None
        return
    url = services.create_database(services.TEST_DATABASE_URL)
    try:
        migrate(Settings(database_url=url))
        yield url
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, sqlite_template: Path, postgres_url: str | None
) -> str:
    """A migrated, empty database on the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "nexo.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_url is None:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    assert postgres_url is not None
    await services.empty_database(postgres_url)
    return postgres_url


@pytest.fixture
def redis_url() -> str:
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert services.TEST_REDIS_URL is not None
    return services.TEST_REDIS_URL


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=None,
        environment="dev",
        secret_key_file=tmp_path / "secret.key",
        gc_freeze=False,
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = build_container(settings, JOBS, retry_base_seconds=0.01)
    await built.start()
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def app(settings: Settings, container: Container) -> AsyncIterator[Starlette]:
    application = create_app(settings, container=container)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


async def issue_key(container: Container, name: str, role: Role) -> str:
    async with container.uow() as uow:
        issued = await create_api_key(uow, name=name, role=role)
        await uow.commit()
    return issued.secret


@pytest.fixture
async def admin_key(container: Container) -> str:
    return await issue_key(container, "test-admin", Role.ADMIN)


@pytest.fixture
async def staff_key(container: Container) -> str:
    return await issue_key(container, "test-staff", Role.STAFF)


@pytest.fixture
async def readonly_key(container: Container) -> str:
    return await issue_key(container, "test-readonly", Role.READONLY)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexo.test") as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database backend, so CI shows both really ran."""
    counts: dict[str, dict[str, int]] = {name: {} for name in BACKENDS}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            for name in BACKENDS:
                if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid:
                    counts[name][outcome] = counts[name].get(outcome, 0) + 1
    parts = [
        f"{name}: " + (", ".join(f"{n} {o}" for o, n in sorted(c.items())) or "none")
        for name, c in counts.items()
    ]
    terminalreporter.write_line("tests per backend: " + "; ".join(parts))
