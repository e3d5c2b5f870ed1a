"""Calls that arrive together, served by one run over all of them (a group commit).

A worker runs many jobs at once, each about one thing (one inbound event, say). Done one
by one, each pays its own transactions; gathered, a batch pays them once. `Batcher.submit`
joins the batch being gathered and waits for its own outcome. One run at a time: calls
that arrive while a run is going form the next batch, so batches grow with the load and a
call that arrives alone is served at once, alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# A run's outcome per key: the value, or the exception that call is to raise.
Run = Callable[[list[K]], Awaitable[Mapping[K, V | Exception]]]


_MISSING: Any = object()


def _retrieved(future: asyncio.Future[Any]) -> None:
    # A caller that stopped waiting never reads its outcome: read it here, so an exception
    # is not reported as never retrieved.
    if not future.cancelled():
        future.exception()


class Batcher(Generic[K, V]):
    def __init__(self, run: Run[K, V], *, max_size: int = 100):
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._run = run
        self._max_size = max_size
        self._waiting: list[tuple[K, asyncio.Future[V]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.rounds = 0  # runs made (for tests and metrics)

    async def submit(self, key: K) -> V:
        """The outcome of `key` from the run that takes it (the same key submitted twice to
        one batch is run once)."""
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)
        self._waiting.append((key, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        # Shielded: a caller that stops waiting does not cancel its batch-mates' run.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_size]
            del self._waiting[: self._max_size]
            keys = list(dict.fromkeys(key for key, _ in batch))
            self.rounds += 1
            outcomes: Mapping[K, V | Exception]
            try:
                outcomes = await self._run(keys)
            except Exception as error:
                outcomes = dict.fromkeys(keys, error)
            except BaseException:
                for _, future in batch:
                    future.cancel()
                raise
            for key, future in batch:
                if future.done():
                    continue
                outcome = outcomes.get(key, _MISSING)
                if outcome is _MISSING:  # the message is made only then: a key's repr costs
                    outcome = LookupError(f"the run gave no outcome for {key!r}")
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
