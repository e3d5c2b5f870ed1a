"""eBay's notifications: the endpoint challenge, the ECDSA signature, the topics the hub reads.

- The challenge: eBay GETs the endpoint with `challenge_code`, expecting `{"challengeResponse":
  hex(SHA-256(challengeCode + verificationToken + endpoint))}`.
- The signature: `X-EBAY-SIGNATURE` is base64 of `{"alg": "ecdsa", "kid", "signature",
  "digest"}`; `signature` (base64 DER) signs the raw body with the key eBay publishes at
  `GET /commerce/notification/v1/public_key/{kid}`. Keys are cached for an hour (eBay asks for
  it: a key fetched for every notification would spend the call quota), in the process, for
  every channel; a kid eBay does not know is remembered as such for a few minutes.
- The topics: `ORDER_CONFIRMATION`, one per line item, names the order (`data.orderId`) and
  carries nothing else to take it in by: the event says "an order", and the hub reads it with
  getOrders (a pull). Each notification's `notificationId` is its event id: a resend repeats it.
- The send time: `publishDate`, signed and renewed on each attempt, bounds replay (see
  `published_at`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import ChannelRejected, InboundEvent, InboundKind

SIGNATURE_HEADER: Final = "x-ebay-signature"
ORDER_TOPICS: Final = frozenset({"ORDER_CONFIRMATION"})
KEY_SECONDS: Final = 3600.0
UNKNOWN_KEY_SECONDS: Final = 300.0
_DIGESTS: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
}


@dataclass(frozen=True, slots=True)
class Signature:
    kid: str
    signature: bytes
    digest: str


@dataclass(frozen=True, slots=True)
class _Cached:
    key: ec.EllipticCurvePublicKey | None  # None: eBay knows no such key
    until: float


class PublicKeys:
    """eBay's notification keys by kid, shared by the process's ports (one per API origin)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], _Cached] = {}

    def get(self, origin: str, kid: str) -> ec.EllipticCurvePublicKey | None:
        cached = self._keys.get((origin, kid))
        return cached.key if cached and cached.until > time.monotonic() else None

    def known(self, origin: str, kid: str) -> bool:
        """Whether the kid needs no fetch: its key is cached, or eBay said it has none."""
        cached = self._keys.get((origin, kid))
        return cached is not None and cached.until > time.monotonic()

    def keep(self, origin: str, kid: str, pem: str | None) -> None:
        key = _public_key(pem) if pem else None
        seconds = KEY_SECONDS if key is not None else UNKNOWN_KEY_SECONDS
        self._keys[(origin, kid)] = _Cached(key, time.monotonic() + seconds)


KEYS: Final = PublicKeys()


def _public_key(pem: str) -> ec.EllipticCurvePublicKey | None:
    """eBay's key as PEM; eBay has been seen to send it on one line, so it is rewrapped."""
    body = pem.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "")
    body = "".join(body.split())
    wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    text = f"-----BEGIN PUBLIC KEY-----\n{wrapped}\n-----END PUBLIC KEY-----\n"
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError:
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def header(headers: Mapping[str, str], name: str) -> str | None:
    found = headers.get(name)
    if found is not None:
        return found
    return next((v for k, v in headers.items() if k.lower() == name), None)


def signature(headers: Mapping[str, str]) -> Signature | None:
    """The X-EBAY-SIGNATURE header read; None when absent or malformed."""
    raw = header(headers, SIGNATURE_HEADER)
    if not raw:
        return None
    try:
        given = json.loads(base64.b64decode(raw, validate=True))
        signed = base64.b64decode(str(given["signature"]), validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(given, dict) or given.get("alg", "").lower() != "ecdsa":
        return None
    kid = given.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        return None
    return Signature(kid, signed, str(given.get("digest") or "SHA1").upper())


def verify(key: ec.EllipticCurvePublicKey, signed: Signature, body: bytes) -> bool:
    digest = _DIGESTS.get(signed.digest)
    if digest is None:
        return False
    try:
        key.verify(signed.signature, body, ec.ECDSA(digest()))
    except InvalidSignature:
        return False
    return True


def challenge_answer(code: str, verification_token: str, endpoint: str) -> dict[str, str]:
    digest = hashlib.sha256((code + verification_token + endpoint).encode()).hexdigest()
    return {"challengeResponse": digest}


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def published_at(body: bytes) -> datetime | None:
    """`notification.publishDate` of a (verified) notification: when eBay sent it.

    It is under the signature, and eBay stamps it anew on each attempt (`publishAttemptCount`
    counts them), so it bounds replay where `eventDate`, which a resend keeps, would refuse
    eBay's own retries. None when absent or unreadable; a time without a zone is UTC.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    notification = payload.get("notification") if isinstance(payload, dict) else None
    published = (
        parse_time(notification.get("publishDate")) if isinstance(notification, dict) else None
    )
    if published is not None and published.tzinfo is None:
        return published.replace(tzinfo=UTC)
    return published


def parse(body: bytes) -> InboundEvent:
    """A verified notification as an event; ChannelRejected names what a bad one lacks."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ChannelRejected("eBay notification body is not JSON") from None
    metadata, notification = _object(payload, "metadata"), _object(payload, "notification")
    topic, event_id = metadata.get("topic"), notification.get("notificationId")
    if not isinstance(topic, str) or not topic:
        raise ChannelRejected("eBay notification lacks metadata.topic")
    if not isinstance(event_id, str) or not event_id:
        raise ChannelRejected("eBay notification lacks notification.notificationId")
    occurred_at = parse_time(notification.get("eventDate"))
    if topic in ORDER_TOPICS:
        data = _object(notification, "data")
        if not isinstance(data.get("orderId"), str) or not data["orderId"]:
            raise ChannelRejected(f"{topic} notification lacks data.orderId")
        return InboundEvent(event_id, InboundKind.ORDER, topic, occurred_at)
    return InboundEvent(event_id, InboundKind.OTHER, topic, occurred_at)


def _object(node: Any, name: str) -> dict[str, Any]:
    found = node.get(name) if isinstance(node, dict) else None
    if not isinstance(found, dict):
        raise ChannelRejected(f"eBay notification lacks its {name}")
    return found
