"""eBay's Notification API as a seller's endpoint meets it: the challenge, then signed POSTs.

- Before sending to an endpoint eBay checks it: `GET {endpoint}?challenge_code=C` must answer
  `{"challengeResponse": hex(SHA-256(C + verificationToken + endpoint))}`.
- Each notification is a POST of `{metadata{topic, schemaVersion, deprecated}, notification
  {notificationId, eventDate, publishDate, publishAttemptCount, data}}` with
  `X-EBAY-SIGNATURE: base64(JSON{"alg": "ecdsa", "kid", "signature", "digest": "SHA1"})`:
  an ECDSA (P-256) signature over the raw body, whose public key the seller reads from
  `GET /commerce/notification/v1/public_key/{kid}` (PublicKey{algorithm, digest, key}).
- ORDER_CONFIRMATION is sent once per line item of an order (~ `data` names the order and
  the line: the seller then reads the order with getOrders).
- Not answered 2xx, a notification is sent again later, `publishAttemptCount` + 1 (~ up to
  5 attempts here); the same one always carries the same `notificationId` and `eventDate`,
  and the time of the attempt as `publishDate`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandbox.ebay.orders import stamp

ORDER_CONFIRMATION: Final = "ORDER_CONFIRMATION"
SCHEMA_VERSION: Final = "1.0"
MAX_ATTEMPTS: Final = 5
RETRY_AFTER: Final = timedelta(seconds=30)


def challenge_response(code: str, token: str, endpoint: str) -> str:
    return hashlib.sha256((code + token + endpoint).encode()).hexdigest()


@dataclass
class _Pending:
    body: dict[str, Any]
    due: datetime


class Notifier:
    def __init__(
        self,
        *,
        verification_token: str,
        client: httpx.AsyncClient | None,
        now: Callable[[], datetime],
        drop: Callable[[], bool],
        duplicate: Callable[[], bool],
    ) -> None:
        self.verification_token = verification_token
        self.endpoint: str | None = None
        self.kid = str(uuid.uuid4())
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._client = client or httpx.AsyncClient(timeout=5.0)
        self._own_client = client is None
        self._now = now
        self._drop, self._duplicate = drop, duplicate
        self._pending: list[_Pending] = []
        self.log: list[dict[str, Any]] = []

    def public_key(self) -> dict[str, str]:
        pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"algorithm": "ECDSA", "digest": "SHA1", "key": pem.decode()}

    def sign(self, body: bytes) -> str:
        signature = self._key.sign(body, ec.ECDSA(hashes.SHA1()))  # eBay's digest
        header = {"alg": "ecdsa", "kid": self.kid,
                  "signature": base64.b64encode(signature).decode(), "digest": "SHA1"}  # fmt: skip
        return base64.b64encode(json.dumps(header).encode()).decode()

    async def subscribe(self, endpoint: str) -> None:
        """Create the destination: eBay checks the endpoint with its challenge first."""
        code = uuid.uuid4().hex
        answer = await self._client.get(endpoint, params={"challenge_code": code})
        expected = challenge_response(code, self.verification_token, endpoint)
        given = answer.json().get("challengeResponse") if answer.status_code == 200 else None
        if given != expected:
            raise ValueError(f"the endpoint failed eBay's challenge ({answer.status_code})")
        self.endpoint = endpoint

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        if self.endpoint is None or self._drop():
            return
        now = self._now()
        body = {
            "metadata": {"topic": topic, "schemaVersion": SCHEMA_VERSION, "deprecated": False},
            "notification": {
                "notificationId": str(uuid.uuid4()),
                "eventDate": stamp(now),
                "publishDate": stamp(now),
                "publishAttemptCount": 1,
                "data": data,
            },
        }
        self._pending.append(_Pending(body, now))
        if self._duplicate():
            self._pending.append(_Pending(json.loads(json.dumps(body)), now))

    async def deliver_due(self) -> int:
        """POST what is due; what is not answered 2xx is tried again later."""
        now = self._now()
        due = [p for p in self._pending if p.due <= now]
        self._pending = [p for p in self._pending if p.due > now]
        for pending in due:
            notification = pending.body["notification"]
            notification["publishDate"] = stamp(now)  # each attempt is published anew
            raw = json.dumps(pending.body, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "X-EBAY-SIGNATURE": self.sign(raw)}
            try:
                answer = await self._client.post(self.endpoint or "", content=raw, headers=headers)
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            self.log.append({"id": notification["notificationId"], "status": status})
            attempts = int(notification["publishAttemptCount"])
            if not 200 <= status < 300 and attempts < MAX_ATTEMPTS:
                notification["publishAttemptCount"] = attempts + 1
                self._pending.append(_Pending(pending.body, now + RETRY_AFTER))
        return len(due)

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()
