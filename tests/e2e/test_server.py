"""`nexo serve` as a real uvicorn process: probes, the bootstrap key, auth, dev and prod modes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import services
from tests.e2e.servers import NEXO, Server, nexo_env, serving

# A secret is the prefix plus token_urlsafe(32): 43 characters.
KEY = re.compile(r"(?<![\w-])nexo_[A-Za-z0-9_-]{43}(?![\w-])")
VIEWER = "{ viewer { name role } }"
INTROSPECTION = "{ __schema { types { name } } }"


def nexo(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a short `nexo` command that must succeed; returns its stdout."""
    done = subprocess.run(
        [*NEXO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Site:
    """A migrated database, its environment and working directory."""

    env: dict[str, str]
    home: Path


def migrated_site(home: Path, **variables: str) -> Site:
    site = Site(env=nexo_env(**variables), home=home)
    nexo("migrate", cwd=home, env=site.env)
    return site


@contextmanager
def serve(site: Site, name: str) -> Iterator[Server]:
    """Start `nexo serve` for `site`, wait until /healthz answers, stop it afterwards."""
    with serving(site.home, site.env, name) as (server,):
        yield server


def body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    decoded: dict[str, Any] = response.json()
    return decoded


# --- SQLite, the embedded default, in dev ---------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    home = tmp_path_factory.mktemp("serve-sqlite")
    return migrated_site(home, NEXO_DATABASE_URL=f"sqlite:///{home / 'nexo.db'}")


@pytest.fixture(scope="module")
def dev_server(sqlite_site: Site) -> Iterator[Server]:
    with serve(sqlite_site, "first") as server:
        yield server


@pytest.fixture(scope="module")
def bootstrap_key(dev_server: Server) -> str:
    keys = KEY.findall(dev_server.err)
    assert len(keys) == 1, dev_server.err
    return str(keys[0])


def test_healthz_is_ok(dev_server: Server) -> None:
    with dev_server.client() as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_first_start_prints_one_bootstrap_admin_key_on_stderr(
    dev_server: Server, bootstrap_key: str
) -> None:
    assert dev_server.err.count(bootstrap_key) == 1
    assert "shown once" in dev_server.err
    assert bootstrap_key not in dev_server.out


def test_bootstrap_key_is_an_admin(dev_server: Server, bootstrap_key: str) -> None:
    response = dev_server.graphql(VIEWER, key=bootstrap_key)
    assert body(response) == {"data": {"viewer": {"name": "bootstrap-admin", "role": "ADMIN"}}}


@pytest.mark.parametrize("key", [None, "nexo_not-a-real-key"])
def test_graphql_without_a_valid_key_is_401(dev_server: Server, key: str | None) -> None:
    response = dev_server.graphql(VIEWER, key=key)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_readyz_checks_the_database(dev_server: Server) -> None:
    with dev_server.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}, "channels": {}}


def test_dev_allows_introspection_and_serves_graphiql(
    dev_server: Server, bootstrap_key: str
) -> None:
    types = body(dev_server.graphql(INTROSPECTION, key=bootstrap_key))["data"]["__schema"]["types"]
    assert "Query" in {t["name"] for t in types}
    with dev_server.client() as http:
        page = http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


def test_a_second_start_prints_no_new_key(
    sqlite_site: Site, dev_server: Server, bootstrap_key: str
) -> None:
    with serve(sqlite_site, "second") as second:
        assert KEY.findall(second.err) == []
        response = second.graphql(VIEWER, key=bootstrap_key)
        assert body(response)["data"]["viewer"]["name"] == "bootstrap-admin"


# --- prod: no bootstrap, no introspection, no GraphiQL ----------------------------------------


@pytest.fixture(scope="module")
def prod_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    home = tmp_path_factory.mktemp("serve-prod")
    return migrated_site(
        home, NEXO_DATABASE_URL=f"sqlite:///{home / 'nexo.db'}", NEXO_ENVIRONMENT="prod"
    )


@pytest.fixture(scope="module")
def prod_key(prod_site: Site) -> str:
    return nexo(
        "apikey",
        "create",
        "--name",
        "ops",
        "--role",
        "admin",
        cwd=prod_site.home,
        env=prod_site.env,
    ).strip()


@pytest.fixture(scope="module")
def prod_server(prod_site: Site, prod_key: str) -> Iterator[Server]:
    with serve(prod_site, "prod") as server:
        yield server


def test_prod_prints_no_bootstrap_key(prod_server: Server, prod_key: str) -> None:
    assert KEY.findall(prod_server.err) == []
    assert body(prod_server.graphql(VIEWER, key=prod_key))["data"]["viewer"]["name"] == "ops"


def test_prod_refuses_introspection(prod_server: Server, prod_key: str) -> None:
    answer = body(prod_server.graphql(INTROSPECTION, key=prod_key))
    assert answer.get("data") is None
    assert "introspection" in answer["errors"][0]["message"].lower()


@pytest.mark.parametrize("authenticated", [False, True])
def test_prod_does_not_serve_graphiql(
    prod_server: Server, prod_key: str, authenticated: bool
) -> None:
    with prod_server.client(prod_key if authenticated else None) as http:
        page = http.get("/graphql", headers={"Accept": "text/html"})
    assert not page.headers.get("content-type", "").startswith("text/html")
    assert "graphiql" not in page.text.lower()


# --- PostgreSQL and Redis, the production runtime ---------------------------------------------


@pytest.fixture(scope="module")
def postgres_redis_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert services.TEST_DATABASE_URL is not None
    assert services.TEST_REDIS_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    try:
        yield migrated_site(
            tmp_path_factory.mktemp("serve-postgres"),
            NEXO_DATABASE_URL=url,
            NEXO_REDIS_URL=services.TEST_REDIS_URL,
        )
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


@pytest.fixture(scope="module")
def postgres_server(postgres_redis_site: Site) -> Iterator[Server]:
    with serve(postgres_redis_site, "postgres") as server:
        yield server


@pytest.mark.postgres
@pytest.mark.redis
def test_readyz_checks_postgres_and_redis(postgres_server: Server) -> None:
    with postgres_server.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok"},
        "channels": {},  # none configured yet: nothing to report
    }


@pytest.mark.postgres
@pytest.mark.redis
def test_postgres_bootstrap_key_authenticates(postgres_server: Server) -> None:
    keys = KEY.findall(postgres_server.err)
    assert len(keys) == 1, postgres_server.err
    answer = body(postgres_server.graphql(VIEWER, key=keys[0]))
    assert answer["data"]["viewer"] == {"name": "bootstrap-admin", "role": "ADMIN"}
