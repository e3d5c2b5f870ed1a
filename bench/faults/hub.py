"""Talking to Nexo's two API processes as a client that survives one of them dying.

A mutation goes to the next server in turn; when it gets no answer (connection refused,
timeout, a masked internal error) it is sent once more, with the same idempotency key, to
the other one, as a web store or a script would. Every attempt is kept for the history.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.faults.recorder import Recorder
from bench.support import keys_in

TIMEOUT = 15.0
READ_ROUNDS = 5


@dataclass
class Answer:
    """A mutation's fate: accepted (no user error), refused (user errors) or unknown."""

    outcome: str
    t0: float
    t1: float
    payload: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "accepted"


class Hub:
    def __init__(self, urls: list[str], key: str, recorder: Recorder) -> None:
        self.urls = urls
        self.recorder = recorder
        self.http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {key}"},
            timeout=TIMEOUT,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self._turn = itertools.cycle(range(len(urls)))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _post(self, index: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.urls[index]}/graphql", json={"query": query, "variables": variables}
        )
        body: dict[str, Any] = keys_in(response.json())
        return body

    async def read(self, query: str, **variables: Any) -> dict[str, Any]:
        """A query (or a set-up mutation that must succeed), tried on every server in turn."""
        problem: object = None
        for round_ in range(READ_ROUNDS * len(self.urls)):
            try:
                body = await self._post(next(self._turn), query, variables)
            except (httpx.HTTPError, ValueError) as error:
                problem = error
                await asyncio.sleep(0.2 * (round_ + 1))
                continue
            if body.get("errors"):
                raise RuntimeError(f"GraphQL errors: {body['errors']}")
            data: dict[str, Any] = body["data"]
            for name, found in data.items():
                if isinstance(found, dict) and found.get("userErrors"):
                    raise RuntimeError(f"{name}: {found['userErrors']}")
            return data
        raise RuntimeError(f"no API process answered: {problem!r}")

    async def mutate(self, query: str, variables: dict[str, Any], tries: int = 2) -> Answer:
        """One mutation, sent again to the other server while no answer came."""
        answer = Answer("unknown", self.recorder.now(), 0.0)
        first = next(self._turn)
        for attempt_no in range(tries):
            index = (first + attempt_no) % len(self.urls)  # a retry goes to the other one
            attempt: dict[str, Any] = {"server": f"api-{index + 1}", "t0": self.recorder.now()}
            answer.attempts.append(attempt)
            try:
                body = await self._post(index, query, variables)
            except (httpx.HTTPError, ValueError) as error:
                attempt.update(t1=self.recorder.now(), error=type(error).__name__)
                continue
            attempt["t1"] = self.recorder.now()
            data = body.get("data") or {}
            payload = next(iter(data.values()), None) if data else None
            if not isinstance(payload, dict):
                attempt["error"] = "; ".join(e.get("message", "?") for e in body.get("errors", []))
                continue
            answer.payload = payload
            answer.errors = list(payload.get("userErrors") or [])
            answer.outcome = "refused" if answer.errors else "accepted"
            break
        answer.t1 = self.recorder.now()
        return answer
