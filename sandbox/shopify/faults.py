"""Injected misbehaviour: what a real shop does on a bad day.

- `latency_seconds`: added to every Admin API call, plus up to `latency_jitter_seconds` more
  at random, so calls sent in one order can be carried out in another;
- `fail_next(n, status)`: the next n calls answer 500, 502 or 503 with Shopify's bodies;
- `throttle_next(n, status=200|429)`: the next n calls answer THROTTLED (with 429 the answer
  carries `Retry-After: 2`, as Shopify's REST-era limiter does);
- `hang_next(n)`: the next n calls get no answer: each is held, not carried out, until the client
  hangs up (its timeout), as a shop stuck behind a slow backend;
- `garble_next(n)`: the next n calls are carried out but their answer is cut off halfway (HTTP
  200, half a JSON body), as when the connection drops while the answer is on its way;
- `drop_webhooks`, `duplicate_webhooks`: a probability (a float from 0 to 1) or a count of the
  next events (an int >= 1). A dropped event is never sent; a duplicated one is sent twice with
  the same X-Shopify-Event-Id and different X-Shopify-Webhook-Ids. `dropped` and `duplicated`
  count the events each has hit since the sandbox started (a reset keeps them).
"""

from __future__ import annotations

import random
from typing import Any

FAIL_STATUSES = (500, 502, 503)
THROTTLE_STATUSES = (200, 429)


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self.dropped = 0
        self.duplicated = 0
        self.reset()

    def reset(self) -> None:
        self.latency_seconds = 0.0
        self.latency_jitter_seconds = 0.0
        self.drop_webhooks: float | int = 0
        self.duplicate_webhooks: float | int = 0
        self._failures: list[int] = []
        self._throttles: list[int] = []
        self.hangs = 0
        self.garbles = 0

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        if status not in FAIL_STATUSES:
            raise ValueError(f"status must be one of {FAIL_STATUSES}")
        self._failures.extend([status] * n)

    def throttle_next(self, n: int = 1, status: int = 200) -> None:
        if status not in THROTTLE_STATUSES:
            raise ValueError(f"status must be one of {THROTTLE_STATUSES}")
        self._throttles.extend([status] * n)

    def hang_next(self, n: int = 1) -> None:
        self.hangs += n

    def garble_next(self, n: int = 1) -> None:
        self.garbles += n

    def latency(self) -> float:
        jitter = self._random.random() * self.latency_jitter_seconds
        return self.latency_seconds + jitter

    def take_failure(self) -> int | None:
        return self._failures.pop(0) if self._failures else None

    def take_throttle(self) -> int | None:
        return self._throttles.pop(0) if self._throttles else None

    def take_hang(self) -> bool:
        hit, self.hangs = self.hangs > 0, max(self.hangs - 1, 0)
        return hit

    def take_garble(self) -> bool:
        hit, self.garbles = self.garbles > 0, max(self.garbles - 1, 0)
        return hit

    def drop(self) -> bool:
        self.drop_webhooks, hit = self._roll(self.drop_webhooks)
        self.dropped += hit
        return hit

    def duplicate(self) -> bool:
        self.duplicate_webhooks, hit = self._roll(self.duplicate_webhooks)
        self.duplicated += hit
        return hit

    def _roll(self, setting: float | int) -> tuple[float | int, bool]:
        """(setting after this event, whether it hits this event)."""
        if isinstance(setting, int) and not isinstance(setting, bool):
            return (setting - 1, True) if setting >= 1 else (setting, False)
        return setting, self._random.random() < float(setting)

    def configure(self, data: dict[str, Any]) -> None:
        """Apply a JSON body of POST /_sandbox/faults."""
        if data.get("reset"):
            self.reset()
        for name in ("latency_seconds", "latency_jitter_seconds"):
            if name in data:
                value = float(data[name])
                if value < 0:
                    raise ValueError(f"{name} cannot be negative")
                setattr(self, name, value)
        if data.get("fail_next"):
            self.fail_next(int(data["fail_next"]), int(data.get("fail_status", 500)))
        if data.get("throttle_next"):
            self.throttle_next(int(data["throttle_next"]), int(data.get("throttle_status", 200)))
        if data.get("hang_next"):
            self.hang_next(int(data["hang_next"]))
        if data.get("garble_next"):
            self.garble_next(int(data["garble_next"]))
        for name in ("drop_webhooks", "duplicate_webhooks"):
            if name in data:
                value = data[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{name} is a probability from 0 to 1 or a count")
                setattr(self, name, value)

    def snapshot(self) -> dict[str, Any]:
        return {
            "latency_seconds": self.latency_seconds,
            "latency_jitter_seconds": self.latency_jitter_seconds,
            "fail_next": list(self._failures),
            "throttle_next": list(self._throttles),
            "hang_next": self.hangs,
            "garble_next": self.garbles,
            "drop_webhooks": self.drop_webhooks,
            "duplicate_webhooks": self.duplicate_webhooks,
            "dropped": self.dropped,
            "duplicated": self.duplicated,
        }
