"""The real `nexo` command, run as a process against a SQLite file."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

_SCRIPT = Path(sys.executable).with_name("nexo")
NEXO = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "api.cli"]
TIMEOUT = 60


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


def nexo(*args: str, cwd: Path, **variables: str) -> Run:
    """Run `nexo args…` with only the given `NEXO_…` variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    env.update(variables)
    done = subprocess.run(
        [*NEXO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    return Run(done.returncode, done.stdout, done.stderr)


Cli = Callable[..., Run]


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-template")
    path = home / "template.db"
    run = nexo("migrate", cwd=home, NEXO_DATABASE_URL=f"sqlite:///{path}")
    assert run.code == 0, run.stderr
    assert path.exists()
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_template: Path) -> Path:
    path = tmp_path / "nexo.db"
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
def cli(tmp_path: Path, db_path: Path) -> Cli:
    """`cli("apikey", "list")`: nexo against this test's migrated database."""

    def run(*args: str) -> Run:
        return nexo(*args, cwd=tmp_path, NEXO_DATABASE_URL=f"sqlite:///{db_path}")

    return run


def rows(run: Run) -> list[list[str]]:
    """`apikey list` output as name, role, state."""
    return [line.split("\t")[:3] for line in run.stdout.splitlines()]


def stored_names(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM api_keys ORDER BY name")]


def stored_hash(db_path: Path, name: str) -> str | None:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT key_hash FROM api_keys WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def test_migrate_creates_the_schema_on_an_empty_file(migrated_template: Path) -> None:
    with sqlite3.connect(migrated_template) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"api_keys", "alembic_version"} <= tables


def test_migrate_twice_is_a_no_op(cli: Cli, db_path: Path) -> None:
    run = cli("migrate")
    assert run.code == 0, run.stderr
    assert stored_names(db_path) == []


def test_apikey_create_list_revoke(cli: Cli, db_path: Path) -> None:
    created = cli("apikey", "create", "--name", "x", "--role", "staff")
    assert created.code == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1, created.stdout
    key = lines[0]
    assert key.startswith("nexo_")
    assert key == key.strip()
    assert stored_hash(db_path, "x") == hashlib.sha256(key.encode()).hexdigest()

    assert cli("apikey", "create", "--name", "y", "--role", "readonly").code == 0
    listed = cli("apikey", "list")
    assert listed.code == 0, listed.stderr
    assert rows(listed) == [["x", "staff", "active"], ["y", "readonly", "active"]]
    assert key not in listed.stdout
    assert "nexo_" not in listed.stdout

    taken = cli("apikey", "create", "--name", "x", "--role", "admin")
    assert taken.code != 0
    assert taken.stdout == ""
    assert taken.error_lines == ["nexo: an API key named 'x' already exists"]

    revoked = cli("apikey", "revoke", "x")
    assert revoked.code == 0, revoked.stderr
    assert revoked.stdout == ""
    assert rows(cli("apikey", "list")) == [["x", "staff", "revoked"], ["y", "readonly", "active"]]


def test_apikey_revoke_unknown_fails_with_one_line(cli: Cli) -> None:
    run = cli("apikey", "revoke", "ghost")
    assert run.code != 0
    assert run.error_lines == ["nexo: no active API key named 'ghost'"]


def test_apikey_create_with_unknown_role_fails_with_one_line(cli: Cli, db_path: Path) -> None:
    run = cli("apikey", "create", "--name", "x", "--role", "bogus")

    assert run.code != 0
    assert run.stdout == ""
    assert len(run.error_lines) == 1, run.stderr
    assert "bogus" in run.stderr
    assert "admin, staff, readonly" in run.stderr
    assert stored_names(db_path) == []


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
def test_a_malformed_database_url_stops_any_command_with_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    run = nexo(*command, cwd=tmp_path, NEXO_DATABASE_URL="garbage")

    assert run.code != 0
    assert len(run.error_lines) == 1, run.stderr
    assert "NEXO_DATABASE_URL" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_environment_stops_start_up_with_one_line(tmp_path: Path) -> None:
    run = nexo("migrate", cwd=tmp_path, NEXO_ENVIRONMENT="staging")
    assert run.code != 0
    assert len(run.error_lines) == 1, run.stderr
    assert "NEXO_ENVIRONMENT" in run.stderr


def test_worker_without_redis_fails_with_one_clear_line(tmp_path: Path) -> None:
    run = nexo("worker", cwd=tmp_path, NEXO_DATABASE_URL=f"sqlite:///{tmp_path / 'nexo.db'}")
    assert run.code != 0
    assert len(run.error_lines) == 1, run.stderr
    assert "NEXO_REDIS_URL" in run.stderr


def test_audit_is_clean_then_reports_a_level_changed_behind_the_ledger(
    cli: Cli, db_path: Path
) -> None:
    clean = cli("audit")
    assert clean.code == 0, clean.stderr
    assert clean.stdout == ""
    assert clean.error_lines == ["checked 0 levels, 0 mismatches"]

    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO locations (id, code, name, kind, created_at) "
            "VALUES ('0123456789abcdef0123456789abcdef', 'WH', 'W', 'warehouse', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO inventory_items (sku, available, created_at) VALUES ('X', 0, '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO stock_levels (id, sku, location_id, on_hand, reserved, version) VALUES "
            "('fedcba9876543210fedcba9876543210', 'X', '0123456789abcdef0123456789abcdef', "
            "4, 0, 1)"
        )
    broken = cli("audit")
    assert broken.code == 1
    assert broken.stdout.splitlines() == [
        "X\t01234567-89ab-cdef-0123-456789abcdef\ton_hand ledger=0 level=4\t"
        "reserved ledger=0 level=0",
        "X\tsellable total levels=4 kept=0",
    ]
    assert broken.error_lines == ["checked 1 levels, 2 mismatches"]
