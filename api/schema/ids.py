"""Turning client-supplied ids into domain ids, with a typed error when they are not ids."""

from __future__ import annotations

import uuid

from domain.errors import NotFound


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{value!r} is not a known id", field=field) from None
