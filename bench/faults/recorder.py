"""The recorder: every operation the load makes, every fault, every sample, as JSONL.

Each line is one record with a `type`:
- `setup`: the run's channels, locations and SKUs, and `epoch` (the wall time of t = 0);
- `op`: one operation (`kind`), with its `request`, `outcome` (accepted: answered with no user
  error; refused: answered with user errors; unknown: no answer, e.g. its server was killed),
  `response`, `errors`, the `attempts` (server, times, transport error) and its subjects
  (`skus`, `order`, `cart`, `external`: the marketplace's order id, and `channel`: its
  kind, on marketplace orders);
- `fault`: one injected fault (`kind`, `target`, `t0`, `t1`);
- `phase`: `load_start`, `faults_end`, `load_end`, `drained`;
- `sample`: what the hub offers one marketplace (`channel`: its kind) and what it shows, per
  SKU;
- `exit`: a child that exited on its own (and was started again).
Times are seconds since the run's start, on the monotonic clock.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

from bench.faults.model import Record


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[Record] = []
        self.started = time.monotonic()
        self.epoch = time.time()
        self._file: IO[str] = path.open("w", buffering=1)
        self._seq = 0

    def now(self) -> float:
        return time.monotonic() - self.started

    def write(self, record: Record) -> Record:
        self._seq += 1
        record = {"seq": self._seq, **record}
        self.records.append(record)
        self._file.write(json.dumps(record, default=str) + "\n")
        return record

    def setup(self, **facts: Any) -> Record:
        return self.write({"type": "setup", "t": self.now(), "epoch": self.epoch, **facts})

    def op(self, kind: str, outcome: str, **fields: Any) -> Record:
        return self.write({"type": "op", "kind": kind, "outcome": outcome, **fields})

    def fault(self, kind: str, target: str, t0: float, t1: float) -> Record:
        return self.write({"type": "fault", "kind": kind, "target": target, "t0": t0, "t1": t1})

    def phase(self, name: str) -> Record:
        return self.write({"type": "phase", "name": name, "t": self.now()})

    def sample(
        self, hub: dict[str, int], shop: dict[str, int | None], channel: str = "shopify"
    ) -> Record:
        return self.write(
            {"type": "sample", "t": self.now(), "channel": channel, "hub": hub, "shop": shop}
        )

    def exit(self, name: str, code: int | None) -> Record:
        return self.write({"type": "exit", "process": name, "code": code, "t": self.now()})

    def close(self) -> None:
        self._file.close()


def read_history(path: Path) -> list[Record]:
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]
