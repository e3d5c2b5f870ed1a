"""An idempotency key's fingerprint is the one stored by earlier versions: a replay of a key
recorded before an upgrade still matches its request."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.inventory.hold_requests import LineMode, LineRequest, lines_request, reserve_request
from domain.inventory.idempotency import fingerprint

LOCATION = "0b6f2a8e-6c1e-4d44-9a53-2f7d3c1b5e10"


def _as_first_stored(kind: str, request: Any) -> str:
    body = json.dumps({"kind": kind, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@pytest.mark.parametrize(
    ("kind", "request_"),
    [
        ("reserve", reserve_request("TSHIRT-M", 2, None, "order-1", 900)),
        (
            "reserve_lines",
            lines_request([LineRequest("CAFÉ-1", 1), LineRequest("B", 3)], LineMode.PARTIAL, None),
        ),
        ("adjust", {"z": [1.5, None, True], "a": datetime(2026, 1, 2, tzinfo=UTC), "é": "ü"}),
    ],
)
def test_a_fingerprint_is_the_sorted_json_of_its_request(kind: str, request_: Any) -> None:
    assert fingerprint(kind, request_) == _as_first_stored(kind, request_)


def test_a_known_reservation_keeps_its_fingerprint() -> None:
    request = reserve_request("TSHIRT-M", 1, None, None, None)
    assert fingerprint("reserve", request) == (
        hashlib.sha256(
            b'{"kind": "reserve", "request": {"expiresInSeconds": null, "locationId": null, '
            b'"quantity": 1, "reference": null, "sku": "TSHIRT-M"}}'
        ).hexdigest()
    )
