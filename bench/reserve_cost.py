"""What one lone reservation costs in Python, counted, not timed: opcodes per call, by function.

    python -m bench.reserve_cost [--reservations 500] [--top 25]

`domain.inventory.reservations.reserve` (bench.reservations' row b1) on a fresh PostgreSQL
database, SKUs taken in turn from 2,000, after 200 unmeasured. A tracer counts every
bytecode each function runs while the measured reservations run (slow, but the count does not
move with the machine's load as a rate does), so two versions of the code can be compared
function by function: run it in each tree, one after the other. Prints one JSON line (the
totals and every function's count) and a table of the costliest functions. Needs
PostgreSQL (NEXO_BENCH_DATABASE_URL, default the local `test` server); the event bus is the
in-process one, the event loop uvloop's.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import Counter
from types import FrameType
from typing import Any

import uvloop

from bench.reservations import ACTOR, seed
from bench.support import ROOT, fresh_database, report

WARM_UP = 200
SKUS = 2_000


class OpcodeCount:
    """Opcodes run and calls made, by (file, function), while installed."""

    def __init__(self) -> None:
        self.opcodes: Counter[tuple[str, str]] = Counter()
        self.calls: Counter[tuple[str, str]] = Counter()

    def trace(self, frame: FrameType, event: str, _arg: Any) -> Any:
        where = (frame.f_code.co_filename, frame.f_code.co_name)
        if event == "call":
            self.calls[where] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            self.opcodes[where] += 1
        return self.trace


def _name(where: tuple[str, str]) -> str:
    path, function = where
    for prefix in (f"{ROOT}/.venv/lib/", f"{ROOT}/", f"{sys.base_prefix}/lib/"):
        path = path.removeprefix(prefix)
    return f"{path}:{function}"


async def measure(reservations: int) -> OpcodeCount:
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.inventory import reservations as holds

    count = OpcodeCount()
    async with fresh_database() as url:
        location, skus = await seed(url, SKUS)
        container = build_container(Settings(database_url=url, redis_url=None), pool_size=4)
        await container.start()
        try:
            for n in range(WARM_UP + reservations):
                if n == WARM_UP:
                    sys.settrace(count.trace)
                await holds.reserve(
                    container.uow, sku=skus[n % len(skus)], quantity=1,
                    key=uuid.uuid4().hex, actor=ACTOR, location_id=location,
                )  # fmt: skip
        finally:
            sys.settrace(None)
            await container.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reservations", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    # The event loop bench.reservations (and uvicorn) runs on: its own code is not Python.
    count = uvloop.run(measure(args.reservations))
    n = args.reservations
    costliest = sorted(count.opcodes, key=lambda where: -count.opcodes[where])[: args.top]
    rows = [
        {
            "function": _name(where),
            "opcodes_per_reservation": round(count.opcodes[where] / n, 1),
            "calls_per_reservation": round(count.calls[where] / n, 1),
        }
        for where in costliest
    ]
    report(
        "reserve_cost",
        rows,
        {
            "reservations": n,
            "opcodes_per_reservation": round(sum(count.opcodes.values()) / n, 1),
            "calls_per_reservation": round(sum(count.calls.values()) / n, 1),
            "by_function": {  # every function running an opcode per reservation or more
                _name(where): round(opcodes / n, 1)
                for where, opcodes in count.opcodes.most_common()
                if opcodes >= n
            },
        },
    )


if __name__ == "__main__":
    main()
