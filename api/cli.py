"""The `nexo` command: migrate, serve, worker, apikey."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from adapters.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _fail(message: str, code: int = 2) -> int:
    print(f"nexo: {message}", file=sys.stderr)
    return code


def alembic_config(database_url: str) -> object:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def migrate(settings: Settings, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(settings.database_url), revision)  # type: ignore[arg-type]


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_config=None,
        log_level=settings.log_level.lower(),
        lifespan="on",
        # Access lines cost CPU on every request; requests are logged by the app when useful.
        access_log=settings.log_level == "DEBUG",
    )
    return 0


def _worker(settings: Settings) -> int:
    if not settings.redis_url:
        return _fail(
            "`nexo worker` needs Redis: set NEXO_REDIS_URL (without it, `nexo serve` runs "
            "jobs in-process)"
        )
    from workers.settings import main

    main()
    return 0


async def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from domain import api_keys
    from domain.errors import DomainError

    container = build_container(settings)
    try:
        async with container.uow() as uow:
            if args.apikey_command == "create":
                issued = await api_keys.create_api_key(
                    uow, name=args.name, role=api_keys.parse_role(args.role)
                )
                await uow.commit()
                print(issued.secret)
            elif args.apikey_command == "list":
                for key in await uow.api_keys.list():
                    state = "revoked" if key.revoked_at else "active"
                    print(f"{key.name}\t{key.role.value}\t{state}\t{key.created_at.isoformat()}")
            elif args.apikey_command == "revoke":
                await api_keys.revoke_api_key(uow, name=args.name)
                await uow.commit()
                print(f"revoked {args.name}", file=sys.stderr)
    except DomainError as error:
        return _fail(error.message)
    finally:
        await container.close()
    return 0


async def _audit(settings: Settings) -> int:
    from adapters.container import build_container
    from domain.inventory.queries import audit

    container = build_container(settings)
    try:
        async with container.uow() as uow:
            report = await audit(uow)
    finally:
        await container.close()
    for m in report.mismatches:
        print(
            f"{m.sku}\t{m.location_id}\ton_hand ledger={m.expected_on_hand} "
            f"level={m.actual_on_hand}\treserved ledger={m.expected_reserved} "
            f"level={m.actual_reserved}"
        )
    for t in report.total_mismatches:
        print(f"{t.sku}\tsellable total levels={t.expected_available} kept={t.actual_available}")
    print(
        f"checked {report.checked_levels} levels, "
        f"{len(report.mismatches) + len(report.total_mismatches)} mismatches",
        file=sys.stderr,
    )
    return 0 if report.clean else 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="nexo", description="Nexo multichannel commerce hub")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the configured database to the latest schema")
    serve = commands.add_parser("serve", help="serve the GraphQL API (uvicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    commands.add_parser("worker", help="run an arq worker (needs NEXO_REDIS_URL)")
    commands.add_parser("audit", help="recompute stock levels from the ledger; exit 1 on mismatch")
    apikey = commands.add_parser("apikey", help="manage API keys")
    keys = apikey.add_subparsers(dest="apikey_command", required=True)
    create = keys.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, help="admin, staff or readonly")
    keys.add_parser("list", help="list keys (never the keys themselves)")
    revoke = keys.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        return _fail(str(error))
    from sqlalchemy.exc import DBAPIError

    try:
        return _run(args, settings)
    except (DBAPIError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _fail(f"cannot use the database at NEXO_DATABASE_URL: {reason}")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        migrate(settings)
        return 0
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "apikey":
        return asyncio.run(_apikey(settings, args))
    if args.command == "audit":
        return asyncio.run(_audit(settings))
    return _fail(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
