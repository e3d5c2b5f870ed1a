"""MercadoLibre's error envelope as the port's typed failures.

A refusal is `{message, error, status, cause[]}`; a validation error (400 `validation_error`)
lists its causes `{code, type: error|warning, references, message}`. 429 `too_many_requests`
comes without Retry-After: the client backs off itself (see `Backoff`); 401
`unauthorized_request_error` is a token MercadoLibre refuses; 403 `forbidden_error` a
resource the seller (or the application) may not touch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Final

from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
)

FIRST_PAUSE: Final = 1.0  # seconds after a first 429
LONGEST_PAUSE: Final = 60.0


class Backoff:
    """Exponential back-off with jitter after 429s, per rate-limit key, in this process:
    each 429 in a row doubles the pause (1, 2, 4… up to 60 s), drawn between half of it and
    all of it so that workers throttled together do not come back together; a call that
    gets through starts again from the first. The pause itself is shared by every worker
    (the rate limiter's `pause`)."""

    def __init__(self, jitter: Callable[[], float] = random.random) -> None:
        self._jitter = jitter
        self._streaks: dict[str, int] = {}

    def next_pause(self, key: str) -> float:
        streak = self._streaks.get(key, 0) + 1
        self._streaks[key] = streak
        ceiling: float = min(LONGEST_PAUSE, FIRST_PAUSE * 2.0 ** (streak - 1))
        return ceiling * (0.5 + self._jitter() / 2)

    def succeeded(self, key: str) -> None:
        self._streaks.pop(key, None)


def causes(body: Any) -> list[dict[str, Any]]:
    found = body.get("cause") if isinstance(body, dict) else None
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def describe(body: Any) -> str:
    """MercadoLibre's message with its causes: "Validation error: item.title.length.invalid
    title has more than 60 characters (item.title)"."""
    if not isinstance(body, dict):
        return "no message"
    parts = []
    for c in causes(body):
        if c.get("type", "error") != "error":
            continue
        refs = ", ".join(str(r) for r in c.get("references") or [])
        text = f"{c.get('code', '?')} {c.get('message', '')}".strip()
        parts.append(f"{text} ({refs})" if refs else text)
    head = str(body.get("message") or body.get("error") or "no message")
    return f"{head}: {'; '.join(parts)}" if parts else head


def failure(status: int, body: Any, operation: str, pause: float) -> ChannelFailure:
    """The typed failure of a call MercadoLibre did not carry out."""
    said = describe(body) if isinstance(body, dict) else f"HTTP {status}"
    if status == 429:
        return ChannelThrottled(f"MercadoLibre's rate limit for {operation}: {said}",
                                retry_after=pause)  # fmt: skip
    if status == 401:
        return ChannelMisconfigured(f"MercadoLibre refused the token for {operation}: {said}")
    if status == 403:
        return ChannelMisconfigured(f"MercadoLibre forbids {operation}: {said}")
    if status >= 500 or status == 0:
        return ChannelUnavailable(f"MercadoLibre failed {operation} ({status}): {said}")
    return ChannelRejected(f"MercadoLibre refused {operation}: {said}")
