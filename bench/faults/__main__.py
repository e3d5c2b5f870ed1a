"""Fault harness: real processes under a mixed load while faults strike; then the history checker.

    python -m bench.faults [--seconds 600] [--seed 1] [--database-url URL] [--out DIR]
    python -m bench.faults --check DIR     # check a recorded run again (history + end state)

Two `nexo serve`, two `nexo worker`, the Shopify, Amazon, eBay and MercadoLibre sandboxes and
the harness's own redis-server (on a free port, or --redis-port) on a fresh PostgreSQL
database. For --seconds: web store checkouts racing for the last units of hot SKUs, orders
placed on every marketplace (arriving by its notifications, duplicated and dropped, and by
pull), receipts, adjustments, counts, transfers, shipments, cancellations and returns;
meanwhile a worker and an API process are killed -9 (twice each) and started again, Redis
restarts, and the shop and another marketplace stop for a tenth of the run (a minute at
most). Then it lets the system settle (--converge-within seconds), reads the database and
the marketplaces, and checks every rule of bench/faults/checker.py.

Prints one JSON line and a table, then each violation with the minimal history that shows
it; writes history.jsonl, end.json, violations.txt and the processes' logs to the run's
directory (var/faults/<time>/ unless --out). Exits 1 when any rule was violated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from bench.faults.checker import LEDGER_WINDOW, check
from bench.faults.marketplaces import KINDS
from bench.faults.model import EndState
from bench.faults.recorder import read_history
from bench.faults.report import figures, print_all
from bench.faults.run import Options, Result, run
from bench.support import server_url


def options() -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="seconds of load (600)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=server_url(),
        help="the PostgreSQL server a fresh database is made on",
    )
    parser.add_argument("--out", type=Path, help="the run's directory")
    parser.add_argument("--redis-port", type=int, help="the harness's redis-server (free port)")
    parser.add_argument("--shoppers", type=int, default=6, help="web store shoppers at once")
    parser.add_argument(
        "--converge-within",
        type=float,
        default=60.0,
        help="seconds after the load for every marketplace to match the hub",
    )
    parser.add_argument("--ledger-window", type=float, default=LEDGER_WINDOW)
    parser.add_argument(
        "--policy",
        default="ACCEPT_CHANNEL_EDITS",
        choices=("ACCEPT_CHANNEL_EDITS", "HUB_WINS"),
        help="the shop's stock-edit policy",
    )
    parser.add_argument(
        "--policy-also",
        default="",
        metavar="KINDS",
        help="other marketplaces under --policy too, comma-separated (amazon,ebay,mercadolibre)",
    )
    parser.add_argument("--check", type=Path, metavar="DIR", help="check a recorded run again")
    args = parser.parse_args()
    unknown = set(filter(None, args.policy_also.split(","))) - set(KINDS)
    if unknown:
        parser.error(f"--policy-also: not a marketplace: {', '.join(sorted(unknown))}")
    chosen = Options(
        seconds=args.seconds,
        seed=args.seed,
        database_url=args.database_url,
        out=args.out,
        redis_port=args.redis_port,
        shoppers=args.shoppers,
        converge_within=args.converge_within,
        ledger_window=args.ledger_window,
        policy=args.policy,
        policy_also=tuple(kind for kind in args.policy_also.split(",") if kind),
    )
    return chosen, args.check


def recheck(directory: Path, chosen: Options) -> int:
    history = read_history(directory / "history.jsonl")
    end = EndState.from_json(json.loads((directory / "end.json").read_text()))
    found = check(
        history, end, converge_within=chosen.converge_within, ledger_window=chosen.ledger_window
    )
    for violation in found:
        print(violation.render() + "\n")
    print(f"{len(found)} violations")
    return 1 if found else 0


async def harness(chosen: Options) -> Result:
    """The run, cancelled (so that it cleans up) by SIGTERM as by Ctrl-C."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(chosen)


def main() -> int:
    chosen, again = options()
    if again is not None:
        return recheck(again, chosen)
    try:
        result = asyncio.run(harness(chosen))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("stopped: every process the harness started is stopped", file=sys.stderr)
        return 130
    rows, extra = figures(
        result.history,
        result.violations,
        webhook_log=result.webhook_log,
        notifications=result.notifications,
        propagation_p95_ms=result.propagation_p95_ms,
        outbox_max_age=result.outbox_max_age,
        seed=chosen.seed,
        history_path=result.directory / "history.jsonl",
        end=result.end,
        outbox_oldest=result.outbox_oldest,
    )
    print_all(rows, extra, result.violations)
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
