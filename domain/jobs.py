"""Background jobs as the core sees them: a named async function and how to run it.

A job function takes a context mapping (the ports it needs) and plain arguments (ids,
numbers, strings: they cross a queue). It may run more than once, so it must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

JobContext = Mapping[str, Any]
JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    function: JobFunction
    max_tries: int = 5
    timeout_seconds: float = 300.0
    # Periodic jobs run every this many seconds (a divisor of 60) on every runtime.
    every_seconds: int | None = None

    @property
    def name(self) -> str:
        return self.function.__name__

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if self.every_seconds is not None and (
            self.every_seconds < 1 or 60 % self.every_seconds != 0
        ):
            raise ValueError("every_seconds must divide 60")


def periodic_job_id(spec: JobSpec, slot: int) -> str:
    """One id per job per time slot, so several schedulers start it once."""
    return f"periodic:{spec.name}:{slot}"
