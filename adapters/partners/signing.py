"""How a partner knows a webhook came from Nexo: an HMAC-SHA256 over timestamp and body.

`X-Nexo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. Binding the
timestamp into the signature lets the partner refuse a replay outside its window; comparing
in constant time keeps the secret from leaking through timing.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Nexo-Signature"
DELIVERY_HEADER = "X-Nexo-Delivery"
EVENT_HEADER = "X-Nexo-Event"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` with `secret`, made within `tolerance` seconds of `now`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={fields.get('v1', '')}")
