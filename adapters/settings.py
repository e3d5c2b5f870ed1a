"""Nexo's configuration: one object, read from `NEXO_…` environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.money import CURRENCY_EXPONENTS

DEFAULT_SQLITE_PATH = Path("var") / "nexo.db"
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class SettingsError(Exception):
    """A setting has a value Nexo cannot start with; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXO_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    environment: Environment = Environment.DEV
    # `json` (one object a line, for machines) or `text` (a readable line, for a person);
    # unset: text in dev and the demo, JSON in production.
    log_format: Literal["json", "text"] | None = None
    # How long an authenticated key is remembered in a process; revocation takes effect within it.
    auth_cache_seconds: float = 5.0
    # The largest `/graphql` request body accepted (413 above it, before it is read whole):
    # room for an `upsertProducts` of 500 products with long descriptions.
    max_request_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    # Per API key, a token bucket per operation class (sustained per second, burst); a
    # webhook channel's bucket likewise. Shared through Redis when it is configured.
    # Benchmarks measuring throughput turn them off (`rate_limits=false`).
    rate_limits: bool = True
    query_rate: float = Field(default=200.0, gt=0)
    query_burst: int = Field(default=1000, gt=0)
    mutation_rate: float = Field(default=100.0, gt=0)
    mutation_burst: int = Field(default=1000, gt=0)
    webhook_rate: float = Field(default=200.0, gt=0)
    webhook_burst: int = Field(default=2000, gt=0)
    # A webhook whose channel signs when it sent it (eBay's publishDate) is refused (401)
    # when sent longer ago than this, or further ahead of the hub's clock than the skew:
    # a captured delivery cannot be replayed later. Channels that sign no send time
    # (Shopify) are not judged by one (see `SignedSendTime`).
    webhook_replay_window_seconds: float = Field(default=300.0, gt=0)
    webhook_clock_skew_seconds: float = Field(default=60.0, ge=0)
    # Fernet key (urlsafe base64 of 32 bytes) sealing channel credentials at rest. Required in
    # production; in dev, one is generated once into `secret_key_file`.
    secret_key: SecretStr | None = None
    # While rolling out a new secret key: the former one, still opening what it sealed
    # until `nexo secrets reseal` has re-sealed everything under the new key.
    previous_secret_key: SecretStr | None = None
    secret_key_file: Path = Path("var") / "secret.key"
    # Move everything alive after start-up out of the cyclic collector's sight: full
    # collections then scan only per-request objects (page p99 of products: 190 -> ~70 ms).
    gc_freeze: bool = True
    # A relay holding outbox rows longer than this is presumed dead (killed worker): its rows
    # go back to be sent again. Above the drain job's timeout, so a live relay keeps its rows.
    outbox_stuck_seconds: float = 150.0
    # A channel's stock edit lowering its figure waits this long for the sale's order (below
    # the inbox sweep's minute, which re-requests runs lost meanwhile). See `inbox.process`.
    stock_edit_hold_seconds: float = 30.0
    # How long a run holds an order's allocation: a worker that dies between storing an
    # order and reserving it has its allocation taken over this long (plus a second) after.
    allocation_lease_seconds: float = Field(default=5.0, gt=0)
    # A manual conflict left unresolved this long raises an alert (once).
    manual_conflict_alert_seconds: float = Field(default=3600.0, gt=0)
    # The merchant's own currency (ISO 4217): reports and customers' lifetime values are in it
    # unless a caller asks for another.
    currency: str = "USD"
    # The arq queue (Redis): installations sharing a Redis database each need their own.
    queue_name: str = "nexo:jobs"
    # The embedded demo (a Shopify sandbox in the process, a seeded catalog) is served by its
    # development entry point, `nexo-sandbox demo` (`make run`); `nexo serve` refuses it.
    demo: bool = False
    # Where each process (uvicorn workers, arq workers) writes its metrics for `/metrics` to
    # add up: prometheus_client's multiprocess mode, read by the library under this very name.
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL (e.g. postgresql+asyncpg://user@host/db)"
            ) from None
        driver = _DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(f"unsupported database {url.drivername!r}; use sqlite or postgresql")
        if driver.startswith("postgresql") and not url.database:
            raise ValueError("a PostgreSQL URL must name a database")
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value.upper() not in CURRENCY_EXPONENTS:
            raise ValueError(f"unknown currency {value!r} (an ISO 4217 code, e.g. USD)")
        return value.upper()

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _demo_is_for_dev(self) -> Settings:
        if self.demo and self.environment is Environment.PROD:
            raise ValueError("demo: the embedded demo (a marketplace sandbox) is dev only")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return (value.lower() or None) if isinstance(value, str) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def log_style(self) -> str:
        if self.log_format is not None:
            return self.log_format
        return "text" if self.is_dev else "json"

    @property
    def is_dev(self) -> bool:
        return self.environment is Environment.DEV


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a bad value raises `SettingsError` naming the variable in one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "NEXO_" + str(first["loc"][0]).upper() if first["loc"] else "NEXO_?"
        if not first["loc"] and ":" in first["msg"]:  # a check across settings names its own
            name = "NEXO_" + first["msg"].removeprefix("Value error, ").split(":")[0].upper()
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:
            message = message.split(": ", 1)[-1]
        raise SettingsError(f"invalid setting {name}: {message}") from None
