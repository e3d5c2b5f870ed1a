"""The `nexo` command: migrate, serve, worker, apikey, audit, import, export, secrets, report,
schema.

The marketplace emulators and the demo are development tools: `nexo-sandbox` (sandbox/cli.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from alembic.config import Config

    from api.catalog_csv import CsvProduct, RowError
    from domain.catalog.products import UpsertResult

ROOT = Path(__file__).resolve().parent.parent
MAX_LANES = 32


def _fail(message: str, code: int = 2) -> int:
    print(f"nexo: {message}", file=sys.stderr)
    return code


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def migrate(settings: Settings, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(settings.database_url), revision)


def serve(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    workers: int = 1,
    app: str = "api.app:create_app",
    graceful_seconds: int | None = None,
) -> int:
    """Serve the app that the factory `app` (an import path) builds, under uvicorn."""
    import uvicorn

    # The app is built by uvicorn (in each worker process) from the settings: where it
    # listens is part of them (the demo's sandbox calls back to it), so pass the flags on.
    if host:
        os.environ["NEXO_HOST"] = host
    if port:
        os.environ["NEXO_PORT"] = str(port)
    uvicorn.run(
        app,
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        log_level=settings.log_level.lower(),
        lifespan="on",
        # Access lines cost CPU on every request; requests are logged by the app when useful.
        access_log=settings.log_level == "DEBUG",
        # On SIGTERM, requests in flight are waited for this long, then cancelled (None: all).
        timeout_graceful_shutdown=graceful_seconds,
    )
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if settings.demo:
        return _fail(
            "NEXO_DEMO=1: the demo (a Shopify sandbox in the process) is a development tool, "
            "run by `nexo-sandbox demo` (as `make run` does), not by `nexo serve`"
        )
    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def _worker(settings: Settings) -> int:
    if not settings.redis_url:
        return _fail(
            "`nexo worker` needs Redis: set NEXO_REDIS_URL (without it, `nexo serve` runs "
            "jobs in-process)"
        )
    from workers.settings import main

    main()
    return 0


def _location_id(given: str | None) -> uuid.UUID | None:
    from domain.errors import InvalidInput

    if given is None:
        return None
    try:
        return uuid.UUID(given)
    except ValueError:
        raise InvalidInput(f"{given!r} is not a location id", field="location") from None


async def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from domain import api_keys
    from domain.errors import DomainError

    container = build_container(settings)
    try:
        async with container.uow() as uow:
            if args.apikey_command == "create":
                issued = await api_keys.create_api_key(
                    uow,
                    name=args.name,
                    role=api_keys.parse_role(args.role),
                    location_id=_location_id(args.location),
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


async def _reseal(settings: Settings) -> int:
    from adapters.container import build_container
    from adapters.db.resealing import UnopenableCredentials, reseal_credentials

    if settings.secret_key is None:
        return _fail("`nexo secrets reseal` needs the new key in NEXO_SECRET_KEY")
    container = build_container(settings)
    try:
        report = await reseal_credentials(container.engine, container.secrets)
    except UnopenableCredentials as error:
        return _fail(str(error), code=1)
    finally:
        await container.close()
    print(
        f"re-sealed {report.resealed} secrets (channel credentials, partner webhook secrets) "
        "under NEXO_SECRET_KEY"
        + (
            f"; {report.changed_meanwhile} changed meanwhile (kept)"
            if report.changed_meanwhile
            else ""
        ),
        file=sys.stderr,
    )
    return 0


@dataclass
class _ImportTally:
    """What an import did so far: products by outcome, and every error at its row."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("created", "updated", "unchanged", "failed"), 0)
    )
    errors: list[RowError] = field(default_factory=list)

    def add(self, product: CsvProduct, result: UpsertResult) -> None:
        from api.catalog_csv import row_errors

        self.counts[result.outcome.value] += 1
        self.errors.extend(row_errors(product, result.errors))

    def line(self) -> str:
        return ", ".join(f"{outcome} {count}" for outcome, count in self.counts.items())


@contextmanager
def _progress(total: int, batches: int) -> Iterator[Callable[[int, _ImportTally], None]]:
    """`advance(products, tally)` after each batch: a bar on a terminal, else one line each."""
    if not sys.stdout.isatty():
        done = 0

        def line(products: int, tally: _ImportTally) -> None:
            nonlocal done
            done += 1
            print(f"batch {done}/{batches}: {products} products; {tally.line()}", flush=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "importing products", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bar:
        task = bar.add_task("import", total=total)
        yield lambda products, _: bar.advance(task, products)


async def _import_products(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from api.catalog_csv import CsvError, read_products
    from api.product_batches import upsert_batch
    from domain.catalog.products import MAX_BATCH
    from workers.registry import JOBS

    size = args.batch_size
    if not 1 <= size <= MAX_BATCH:
        return _fail(f"--batch-size is 1 to {MAX_BATCH}, got {size}")
    try:
        parsed = read_products(Path(args.file))
    except CsvError as error:
        return _fail(str(error))
    tally = _ImportTally()
    tally.errors.extend(parsed.errors)
    tally.counts["failed"] = sum(1 for p in parsed.products if p.errors)
    ready = [p for p in parsed.products if not p.errors]
    batches = [ready[start : start + size] for start in range(0, len(ready), size)]
    container = build_container(settings, JOBS)
    try:
        with _progress(len(ready), len(batches)) as advance:
            for batch in batches:
                results = await upsert_batch(container, [p.spec for p in batch])
                for result in results:
                    tally.add(batch[result.index], result)
                advance(len(batch), tally)
    finally:
        await container.close()
    print(tally.line())
    for row_error in sorted(tally.errors, key=lambda e: e.row):
        print(row_error)
    return 1 if tally.errors or tally.counts["failed"] else 0


@contextmanager
def _lines_progress(total: int) -> Iterator[Callable[[int], None]]:
    """`advance(lines)` as lines are applied: a bar on a terminal, else a line per 10,000."""
    if not sys.stdout.isatty():
        done = 0

        def line(count: int) -> None:
            nonlocal done
            done += count
            if done % 10_000 == 0 or done == total:
                print(f"{done}/{total} lines", flush=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("importing stock", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("import", total=total)
        yield lambda count: bar.advance(task, count)


async def _import_stock(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from api.catalog_csv import CsvError
    from api.stock_csv import import_parsed, read_stock

    if not 1 <= args.lanes <= MAX_LANES:
        return _fail(f"--lanes is 1 to {MAX_LANES}, got {args.lanes}")
    try:
        parsed = read_stock(Path(args.file))
    except CsvError as error:
        return _fail(str(error))
    container = build_container(settings, pool_size=args.lanes + 2)
    try:
        with _lines_progress(0 if parsed.errors else len(parsed.lines)) as advance:
            report = await import_parsed(
                container.uow, parsed, actor="cli:import", lanes=args.lanes, progress=advance
            )
    finally:
        await container.close()
    errors = report.errors
    if report.applied or report.replayed or not errors:
        print(f"applied {report.applied}, already applied {report.replayed}")
    else:
        print(f"nothing applied: {len(errors)} row(s) at fault")
    for fault in errors:
        print(fault)
    return 1 if errors else 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from api.export_files import EXPORTS

    container = build_container(settings, [])
    try:
        made = await EXPORTS[args.what](container)
    finally:
        await container.close()
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, made.text, encoding="utf-8")
    else:
        sys.stdout.write(made.text)
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.container import build_container
    from api.report_files import REPORTS
    from domain.errors import DomainError

    report = REPORTS[args.report_command]
    given = {p.name: value for p in report.parameters
             if (value := getattr(args, p.dest)) is not None}  # fmt: skip
    container = build_container(settings, [])
    try:
        sys.stdout.write((await report.make(container, given)).text)
    except DomainError as error:
        return _fail(f"{error.field}: {error.message}" if error.field else error.message)
    finally:
        await container.close()
    return 0


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
    create.add_argument("--role", required=True, help="admin, staff, readonly or partner")
    create.add_argument("--location", help="a partner key's dropship or 3pl location (its id)")
    keys.add_parser("list", help="list keys (never the keys themselves)")
    revoke = keys.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    secrets = commands.add_parser("secrets", help="manage the key sealing channel credentials")
    secret_commands = secrets.add_subparsers(dest="secrets_command", required=True)
    secret_commands.add_parser(
        "reseal",
        help="re-seal every channel's credentials under NEXO_SECRET_KEY (opening them with it "
        "or NEXO_PREVIOUS_SECRET_KEY)",
    )
    importing = commands.add_parser("import", help="import data from files")
    kinds = importing.add_subparsers(dest="import_command", required=True)
    products = kinds.add_parser(
        "products", help="create or update products from a CSV file, one row per variant"
    )
    products.add_argument("file", help="the CSV file (see README: Importing products from CSV)")
    products.add_argument(
        "--batch-size", type=int, default=500, help="products per transaction (at most 500)"
    )
    stock = kinds.add_parser(
        "stock", help="receipts and counts per SKU and location from a CSV file, all or none"
    )
    stock.add_argument("file", help="the CSV file (see README: Importing and exporting stock)")
    stock.add_argument(
        "--lanes", type=int, default=8, help="batches applied in parallel (1 to 32; default 8)"
    )
    exporting = commands.add_parser("export", help="write stock, products or orders as CSV")
    exporting.add_argument("what", choices=["stock", "products", "orders"])
    exporting.add_argument("--output", "-o", help="the file to write (default: stdout)")
    commands.add_parser("schema", help="print the GraphQL schema (SDL), as schema.graphql holds")
    report = commands.add_parser("report", help="print a report as CSV")
    reports = report.add_subparsers(dest="report_command", required=True)
    from api.report_files import REPORTS

    for kind in REPORTS.values():
        one = reports.add_parser(kind.name, help=kind.help)
        for p in kind.parameters:
            one.add_argument(p.flag, dest=p.dest, metavar=p.name, required=p.required, help=p.help)
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
    if args.command == "import" and args.import_command == "stock":
        return asyncio.run(_import_stock(settings, args))
    if args.command == "import":
        return asyncio.run(_import_products(settings, args))
    if args.command == "export":
        return asyncio.run(_export(settings, args))
    if args.command == "secrets":
        return asyncio.run(_reseal(settings))
    if args.command == "report":
        return asyncio.run(_report(settings, args))
    if args.command == "schema":
        from api.schema.sdl import printed

        sys.stdout.write(printed())
        return 0
    return _fail(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
