"""Batcher: calls arriving together share one run; each gets its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from adapters.desks.batching import Batcher


class Recorder:
    """A run that records the batches it was given; it can be held open, or fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None
        self.bad: set[int] = set()
        self.started = asyncio.Event()

    async def __call__(self, keys: list[int]) -> Mapping[int, int | Exception]:
        self.batches.append(keys)
        self.started.set()
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return {k: (ValueError(f"bad {k}") if k in self.bad else k * 10) for k in keys}


async def test_calls_arriving_together_share_one_run() -> None:
    run = Recorder()
    batcher = Batcher(run)

    results = await asyncio.gather(*(batcher.submit(k) for k in range(20)))

    assert results == [k * 10 for k in range(20)]
    assert run.batches == [list(range(20))]
    assert batcher.rounds == 1


async def test_calls_arriving_during_a_run_form_the_next_batch() -> None:
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run)
    first = asyncio.ensure_future(batcher.submit(1))
    await run.started.wait()  # the first run has started, and waits
    later = [asyncio.ensure_future(batcher.submit(k)) for k in (2, 3, 2)]
    await asyncio.sleep(0)
    assert run.batches == [[1]]

    run.gate.set()

    assert await asyncio.gather(first, *later) == [10, 20, 30, 20]
    assert run.batches == [[1], [2, 3]]  # the key submitted twice is run once


async def test_batches_are_cut_at_the_maximum_size() -> None:
    run = Recorder()
    batcher = Batcher(run, max_size=4)

    await asyncio.gather(*(batcher.submit(k) for k in range(10)))

    assert [len(b) for b in run.batches] == [4, 4, 2]


async def test_an_outcome_that_is_an_exception_is_raised_by_its_call_alone() -> None:
    run = Recorder()
    run.bad = {13}
    batcher = Batcher(run)

    results = await asyncio.gather(
        *(batcher.submit(k) for k in (12, 13, 14)), return_exceptions=True
    )

    assert (results[0], results[2]) == (120, 140)
    assert isinstance(results[1], ValueError)


async def test_a_failed_run_fails_every_call_in_it_and_the_next_batch_still_runs() -> None:
    run = Recorder()
    run.fail = RuntimeError("database away")
    batcher = Batcher(run)

    results = await asyncio.gather(*(batcher.submit(k) for k in (1, 2)), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]

    run.fail = None
    assert await batcher.submit(3) == 30


async def test_a_caller_that_stops_waiting_does_not_stop_the_others() -> None:
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run)
    leaving = asyncio.ensure_future(batcher.submit(1))
    staying = asyncio.ensure_future(batcher.submit(2))
    await run.started.wait()

    leaving.cancel()
    run.gate.set()

    assert await staying == 20
    with pytest.raises(asyncio.CancelledError):
        await leaving


def test_a_batch_holds_at_least_one_call() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Batcher(Recorder(), max_size=0)


async def test_a_key_the_run_gave_no_outcome_for_raises_and_its_batch_mates_are_served() -> None:
    async def forgetful(keys: list[int]) -> Mapping[int, int | Exception]:
        return {k: k * 10 for k in keys if k != 3}

    batcher: Batcher[int, int] = Batcher(forgetful)

    outcomes = await asyncio.gather(*(batcher.submit(k) for k in range(5)), return_exceptions=True)

    assert outcomes[:3] == [0, 10, 20]
    assert outcomes[4] == 40
    assert isinstance(outcomes[3], LookupError)
    assert "no outcome for 3" in str(outcomes[3])
