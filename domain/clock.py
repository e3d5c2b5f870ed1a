"""The hub's clock: every time it records is timezone-aware UTC.

Use cases take a `Clock` (defaulting to `utcnow`) so tests can pass a fixed or stepping one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
