"""The faults: what is done to the running system, when, and for how long.

Scaled to the load's length, so the short run has every kind the long one has: kill -9 of a
worker and of an API process (each started again after a pause), a Redis restart (it keeps
nothing: queued jobs are lost), the shop frozen (SIGSTOP: calls and webhooks hang) for a
tenth of the run (a minute in the long one) and so is another marketplace (one in the short
run, each in turn in the long one), slow shop calls, and every marketplace's notifications
dropped and duplicated. A supervisor starts again any child that exits on its own, and
records it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from bench.faults.marketplaces import KINDS
from bench.faults.processes import Child, Fleet
from bench.faults.recorder import Recorder
from bench.faults.stage import Stage

WEBHOOK_FAULTS = {"drop_webhooks": 0.1, "duplicate_webhooks": 0.1}
SHOP_LATENCY = {"latency_seconds": 0.1, "latency_jitter_seconds": 0.3}
SUPERVISE_EVERY = 0.5
OTHER_API_WITHIN = 60.0
LONG_RUN = 300.0  # seconds of load from which every marketplace is stopped in turn


@dataclass(frozen=True)
class Fault:
    at: float  # seconds into the load
    kind: str
    target: str
    lasts: float


def kind_of(child: str) -> str:
    """The marketplace a sandbox child plays (the Shopify sandbox is `sandbox`)."""
    return "shopify" if child == "sandbox" else child


def schedule(seconds: float, seed: int = 1) -> list[Fault]:
    """Every kind of fault, placed over the first 85% of the load (the rest lets it settle).

    The marketplaces other than the shop are stopped away from the shop's stop: in a short
    run one of them (by the seed), in a long one each in turn."""
    down = max(3.0, seconds / 100)
    frozen = min(60.0, max(5.0, seconds / 10))
    turns = list(KINDS) if seconds >= LONG_RUN else [KINDS[seed % len(KINDS)]]
    starts = (0.18, 0.35, 0.68)
    stops = [
        Fault(at * seconds, "stop_sandbox", kind, frozen)
        for at, kind in zip(starts, turns, strict=False)
    ]
    return sorted(
        [
            *stops,
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
            up = self.stage.up(kind_of(fault.target))
            up.clear()
            child.freeze()
            await asyncio.sleep(fault.lasts)
            child.thaw()
            up.set()
        else:
            setting = WEBHOOK_FAULTS if fault.kind == "webhook_faults" else SHOP_LATENCY
            kinds = list(self.stage.channels) if fault.kind == "webhook_faults" else ["shopify"]
            await self._faults(kinds, setting)
            await asyncio.sleep(fault.lasts)
            await self._faults(kinds, dict.fromkeys(setting, 0))
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

    async def _faults(self, kinds: list[str], setting: dict[str, float]) -> None:
        await asyncio.gather(*(self._set_faults(kind, setting) for kind in kinds))

    async def _set_faults(self, kind: str, setting: dict[str, float]) -> None:
        for _ in range(10):  # the marketplace may be frozen just now: wait for it
            try:
                if kind == "shopify":
                    answer = await self.stage.shop.post("/_sandbox/faults", json=setting)
                    answer.raise_for_status()
                else:
                    await self.stage.markets[kind].faults(setting)
                return
            except httpx.HTTPError:
                await asyncio.sleep(1.0)
        raise RuntimeError(f"{kind} never took its faults {setting}")

    async def supervise(self) -> None:
        """Start again whatever exits on its own (a real deployment's supervisor would)."""
        while True:
            await asyncio.sleep(SUPERVISE_EVERY)
            for child in self.fleet.crashed():
                code = child.process.returncode if child.process else None
                self.recorder.exit(child.name, code)
                await self._start(child)
