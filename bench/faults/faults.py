"""The faults: what is done to the running system, when, and for how long.

Scaled to the load's length, so the short run has every kind the long one has: kill -9 of a
worker and of an API process (each started again after a pause), a Redis restart (it keeps
nothing: queued jobs are lost), the shop frozen (SIGSTOP: calls and webhooks hang) for a
tenth of the run (a minute in the long one), slow shop calls, and webhooks dropped and
duplicated. A supervisor starts again any child that exits on its own, and records it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from bench.faults.processes import Child, Fleet
from bench.faults.recorder import Recorder
from bench.faults.stage import Stage

WEBHOOK_FAULTS = {"drop_webhooks": 0.1, "duplicate_webhooks": 0.1}
SHOP_LATENCY = {"latency_seconds": 0.1, "latency_jitter_seconds": 0.3}
SUPERVISE_EVERY = 0.5
OTHER_API_WITHIN = 60.0


@dataclass(frozen=True)
class Fault:
    at: float  # seconds into the load
    kind: str
    target: str
    lasts: float


def schedule(seconds: float) -> list[Fault]:
    """Every kind of fault, placed over the first 85% of the load (the rest lets it settle)."""
    down = max(3.0, seconds / 100)
    frozen = min(60.0, max(5.0, seconds / 10))
    return sorted(
        [
            Fault(0.05 * seconds, "webhook_faults", "sandbox", 0.80 * seconds),
            Fault(0.15 * seconds, "kill_worker", "worker-1", down),
            Fault(0.25 * seconds, "shop_latency", "sandbox", 0.15 * seconds),
            Fault(0.30 * seconds, "kill_api", "api-1", down),
            Fault(0.45 * seconds, "restart_redis", "redis", down),
            Fault(0.55 * seconds, "stop_sandbox", "sandbox", frozen),
            Fault(0.75 * seconds, "kill_worker", "worker-2", down),
            Fault(0.75 * seconds, "kill_api", "api-2", down),
        ],
        key=lambda f: f.at,
    )


class Injector:
    def __init__(self, fleet: Fleet, stage: Stage, recorder: Recorder) -> None:
        self.fleet, self.stage, self.recorder = fleet, stage, recorder

    async def run(self, faults: list[Fault]) -> None:
        start = self.recorder.now()
        await asyncio.gather(*(self._at(start, fault) for fault in faults))
        self.recorder.phase("faults_end")

    async def _at(self, start: float, fault: Fault) -> None:
        await asyncio.sleep(max(0.0, start + fault.at - self.recorder.now()))
        if fault.kind == "kill_api":
            await self._other_api_up(fault.target)
        t0 = self.recorder.now()
        child = self.fleet.children.get(fault.target)
        if fault.kind in ("kill_worker", "kill_api", "restart_redis"):
            assert child is not None
            child.kill()
            await asyncio.sleep(fault.lasts)
            await self._start(child)
        elif fault.kind == "stop_sandbox":
            assert child is not None
            self.stage.shop_up.clear()
            child.freeze()
            await asyncio.sleep(fault.lasts)
            child.thaw()
            self.stage.shop_up.set()
        else:
            setting = WEBHOOK_FAULTS if fault.kind == "webhook_faults" else SHOP_LATENCY
            await self._shop_faults(setting)
            await asyncio.sleep(fault.lasts)
            await self._shop_faults(dict.fromkeys(setting, 0))
        self.recorder.fault(fault.kind, fault.target, t0, self.recorder.now())

    async def _other_api_up(self, target: str) -> None:
        """One API process at a time: the harness kills one while the other serves."""
        others = [c for n, c in self.fleet.children.items() if n.startswith("api-") and n != target]
        for _ in range(int(OTHER_API_WITHIN / SUPERVISE_EVERY)):
            serving = [
                c.alive and (c.ready is None or await asyncio.to_thread(c.ready)) for c in others
            ]
            if all(serving):
                return
            await asyncio.sleep(SUPERVISE_EVERY)

    async def _start(self, child: Child) -> None:
        await self.fleet.start(child.name)

    async def _shop_faults(self, setting: dict[str, float]) -> None:
        for _ in range(10):  # the shop may be frozen just now: wait for it
            try:
                (await self.stage.shop.post("/_sandbox/faults", json=setting)).raise_for_status()
                return
            except httpx.HTTPError:
                await asyncio.sleep(1.0)
        raise RuntimeError(f"the shop never took its faults {setting}")

    async def supervise(self) -> None:
        """Start again whatever exits on its own (a real deployment's supervisor would)."""
        while True:
            await asyncio.sleep(SUPERVISE_EVERY)
            for child in self.fleet.crashed():
                code = child.process.returncode if child.process else None
                self.recorder.exit(child.name, code)
                await self._start(child)
