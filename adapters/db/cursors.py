"""Opaque keyset cursors: a position in an ordered listing, safe to hand to clients."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_

from domain.errors import InvalidInput


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([str(v) for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise InvalidInput("malformed cursor", field="after") from None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput("malformed cursor", field="after")
    return [str(v) for v in values]


def decode_position(cursor: str) -> tuple[datetime, uuid.UUID]:
    """A `(created_at, id)` keyset position; a cursor that holds no such position is malformed."""
    created, ident = decode_cursor(cursor, 2)
    try:
        at, position = datetime.fromisoformat(created), uuid.UUID(ident)
    except ValueError:
        raise InvalidInput("malformed cursor", field="after") from None
    if at.tzinfo is None:  # ours always carry UTC; a naive time cannot be compared
        raise InvalidInput("malformed cursor", field="after")
    return at, position


def before_position(at_column: Any, id_column: Any, cursor: str) -> Any:
    """Rows after `cursor` in a newest-first (at, id) listing: the keyset condition."""
    at, ident = decode_position(cursor)
    return or_(at_column < at, and_(at_column == at, id_column < ident))


def after_position(at_column: Any, id_column: Any, cursor: str) -> Any:
    """Rows after `cursor` in an oldest-first (at, id) listing."""
    at, ident = decode_position(cursor)
    return or_(at_column > at, and_(at_column == at, id_column > ident))
