"""Settings come from `NEXO_…` variables; a value Nexo cannot use stops it with one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.settings import Environment, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `NEXO_…` variable of the caller's shell leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("NEXO_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_runtime() -> None:
    settings = load_settings()

    url = make_url(settings.database_url)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database is not None
    assert Path(url.database).parent == Path("var")
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.environment is Environment.DEV
    assert settings.is_dev
    assert settings.log_level == "INFO"


def test_values_are_read_from_nexo_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXO_DATABASE_URL", "postgresql+asyncpg://nexo@db.internal:5433/nexo")
    monkeypatch.setenv("NEXO_REDIS_URL", "redis://cache.internal:6379/2")
    monkeypatch.setenv("NEXO_HOST", "0.0.0.0")
    monkeypatch.setenv("NEXO_PORT", "9000")
    monkeypatch.setenv("NEXO_LOG_LEVEL", "debug")
    monkeypatch.setenv("NEXO_ENVIRONMENT", "prod")

    settings = load_settings()

    assert settings.database_url == "postgresql+asyncpg://nexo@db.internal:5433/nexo"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://cache.internal:6379/2"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.log_level == "DEBUG"
    assert settings.environment is Environment.PROD
    assert not settings.is_dev


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://nexo:s3cret@db:5432/nexo", "postgresql+asyncpg://nexo:s3cret@db:5432/nexo"),
        ("postgres://nexo@db/nexo", "postgresql+asyncpg://nexo@db/nexo"),
        ("sqlite:///data/nexo.db", "sqlite+aiosqlite:///data/nexo.db"),
        ("sqlite+aiosqlite:///data/nexo.db", "sqlite+aiosqlite:///data/nexo.db"),
    ],
)
def test_database_url_is_normalised_to_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("NEXO_DATABASE_URL", given)
    assert load_settings().database_url == expected


def test_empty_redis_url_means_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXO_REDIS_URL", "")
    assert load_settings().redis_url is None


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("NEXO_DATABASE_URL", "garbage", "not a database URL"),
        ("NEXO_DATABASE_URL", "", "not a database URL"),
        ("NEXO_DATABASE_URL", "mysql://nexo:hunter2@db/nexo", "unsupported database 'mysql'"),
        ("NEXO_DATABASE_URL", "postgresql://nexo@db", "must name a database"),
        ("NEXO_REDIS_URL", "http://cache:6379", "redis://"),
        ("NEXO_REDIS_URL", "cache:6379", "redis://"),
        ("NEXO_ENVIRONMENT", "staging", "'dev' or 'prod'"),
        ("NEXO_PORT", "eighty", "integer"),
        ("NEXO_LOG_LEVEL", "chatty", "INFO"),
        ("NEXO_ALLOCATION_LEASE_SECONDS", "0", "greater than 0"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    message = str(raised.value)
    assert message.startswith(f"invalid setting {variable}: ")
    assert reason in message
    assert "\n" not in message


def test_a_bad_database_url_does_not_echo_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXO_DATABASE_URL", "mysql://nexo:hunter2@db/nexo")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)


def test_explicit_overrides_are_validated_like_variables() -> None:
    with pytest.raises(SettingsError, match=r"^invalid setting NEXO_ENVIRONMENT: "):
        load_settings(environment="qa")


@pytest.mark.parametrize(
    ("variables", "style"),
    [
        ({}, "text"),
        ({"NEXO_ENVIRONMENT": "prod"}, "json"),
        ({"NEXO_ENVIRONMENT": "prod", "NEXO_LOG_FORMAT": "TEXT"}, "text"),
        ({"NEXO_LOG_FORMAT": "json"}, "json"),
    ],
)
def test_logs_are_readable_lines_in_dev_and_json_in_production(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], style: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert load_settings().log_style == style


def test_an_unknown_log_format_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXO_LOG_FORMAT", "xml")

    with pytest.raises(SettingsError, match="NEXO_LOG_FORMAT"):
        load_settings()
