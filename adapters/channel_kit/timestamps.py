"""Timestamps as channels write them in their payloads."""

from __future__ import annotations

from datetime import datetime


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp ("2026-01-05T10:00:00-05:00", "…Z", "….000Z"); None when
    absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
