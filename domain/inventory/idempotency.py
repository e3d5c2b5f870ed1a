"""Idempotent operations: a key names one operation; replaying it returns its first result.

The key is claimed in the same transaction as the change, so either both happen or neither.
Two concurrent calls with one key: the database's unique constraint lets one claim it; the
other fails to claim, waits for nothing, and answers with the stored result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 200


class OperationAlreadyRecorded(Exception):
    """Raised by the operation log when a key is already claimed (the transaction is void)."""


@dataclass(frozen=True, slots=True)
class Operation:
    key: str
    kind: str
    fingerprint: str
    actor: str
    created_at: datetime
    result: Mapping[str, Any] | None = None


# `json.dumps(body, sort_keys=True, default=str)`, its encoder made once (dumps makes one
# per call when given options): the text, and so every stored fingerprint, is the same.
_FINGERPRINT_TEXT = json.JSONEncoder(sort_keys=True, default=str).encode


def fingerprint(kind: str, request: Mapping[str, Any]) -> str:
    body = _FINGERPRINT_TEXT({"kind": kind, "request": request})
    return hashlib.sha256(body.encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"idempotency key must be 1-{MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    return key


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Mapping[str, Any]
    replayed: bool


async def run_once(
    perform: Callable[[], Awaitable[Mapping[str, Any]]],
    stored: Callable[[], Awaitable[Operation | None]],
    expected_fingerprint: str,
    *,
    attempts: int = 3,
) -> Outcome:
    """Run `perform` (one transaction that claims the key); on a claimed key, replay it.

    `stored` reads the operation in a fresh transaction. If the key was claimed by a
    transaction that then rolled back, the claim is gone and we try again.
    """
    for _ in range(attempts):
        try:
            return Outcome(await perform(), replayed=False)
        except OperationAlreadyRecorded:
            operation = await stored()
            if operation is None:
                continue
            if operation.fingerprint != expected_fingerprint:
                raise IdempotencyKeyReused(
                    "this idempotency key was used for a different operation or input",
                    field="idempotencyKey",
                ) from None
            return Outcome(operation.result or {}, replayed=True)
    raise RuntimeError("idempotency key kept being claimed and released")
