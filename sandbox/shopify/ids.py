"""Shopify's global ids (`gid://shopify/Product/123`) and its opaque pagination cursors."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_GID = re.compile(r"^gid://shopify/(?P<kind>[A-Za-z]+)/(?P<id>\d+)(?:\?(?P<query>.*))?$")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def level_gid(location_id: int, item_id: int) -> str:
    """Inventory levels have no number of their own: Shopify spells them location + item."""
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"


def parse_gid(value: object, kind: str) -> int | None:
    """The number in a gid of the given kind; None when it is malformed or of another kind."""
    if not isinstance(value, str):
        return None
    match = _GID.match(value)
    if not match or match["kind"] != kind or match["query"]:
        return None
    return int(match["id"])


def parse_level_gid(value: object) -> tuple[int, int] | None:
    """(location id, inventory item id) from an InventoryLevel gid."""
    if not isinstance(value, str):
        return None
    match = _GID.match(value)
    if not match or match["kind"] != "InventoryLevel" or not match["query"]:
        return None
    key, _, item = match["query"].partition("=")
    if key != "inventory_item_id" or not item.isdigit():
        return None
    return int(match["id"]), int(item)


def gid_kind(value: str) -> str | None:
    match = _GID.match(value)
    return match["kind"] if match else None


def encode_cursor(position: list[Any]) -> str:
    # Shopify's cursors are opaque base64 JSON: clients must not build or read them.
    raw = json.dumps(position, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> list[Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, list) else None
