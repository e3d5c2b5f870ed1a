"""The notification queue, shaped like an SQS standard queue (JSON protocol).

Amazon delivers SP-API notifications to the seller's SQS queue (or EventBridge), never to an
HTTP endpoint. A standard queue delivers at least once: a message received and not deleted
within its visibility timeout is received again, and duplicates happen. Here:

- `POST /` with `X-Amz-Target: AmazonSQS.ReceiveMessage` `{QueueUrl, MaxNumberOfMessages
  (1-10), VisibilityTimeout}` → `{Messages: [{MessageId, ReceiptHandle, MD5OfBody, Body}]}`;
- `AmazonSQS.DeleteMessageBatch` `{QueueUrl, Entries: [{Id, ReceiptHandle}] (1-10)}` →
  `{Successful: [{Id}], Failed: [{Id, Code, Message, SenderFault}]}`.

Every request is signed with AWS Signature V4 (service `sqs`, the queue's region) by the
keys the sandbox was given (`SqsKeys`): a missing, unknown or wrong signature answers 403
as SQS does (MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch).

Faults decide at publication: a dropped notification is never enqueued, a duplicated one is
enqueued twice with the same NotificationId (as Amazon's own redeliveries carry it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.channel_kit.sigv4 import parse_authorization, signature

MAX_RECEIVE = 10
DEFAULT_VISIBILITY = 30.0


@dataclass
class Message:
    message_id: str
    body: str
    visible_at: float = 0.0
    receipt: str | None = None
    receives: int = 0


@dataclass
class NotificationQueue:
    clock: Callable[[], float]
    messages: list[Message] = field(default_factory=list)
    sent: int = 0  # messages enqueued, duplicates included
    dropped: int = 0

    def publish(self, notification: dict[str, Any], *, drop: bool, duplicate: bool) -> None:
        if drop:
            self.dropped += 1
            return
        body = json.dumps(notification)
        for _ in range(2 if duplicate else 1):
            self.messages.append(Message(str(uuid.uuid4()), body))
            self.sent += 1

    def visible(self) -> int:
        now = self.clock()
        return sum(1 for m in self.messages if m.visible_at <= now)

    def receive(self, most: int, visibility: float) -> list[dict[str, Any]]:
        now = self.clock()
        found: list[dict[str, Any]] = []
        for message in self.messages:
            if len(found) == most:
                break
            if message.visible_at > now:
                continue
            message.visible_at = now + visibility
            message.receipt = f"{message.message_id}:{uuid.uuid4().hex}"
            message.receives += 1
            found.append(
                {
                    "MessageId": message.message_id,
                    "ReceiptHandle": message.receipt,
                    "MD5OfBody": hashlib.md5(message.body.encode()).hexdigest(),
                    "Body": message.body,
                    "Attributes": {"ApproximateReceiveCount": str(message.receives)},
                }
            )
        return found

    def delete(self, receipt: str) -> bool:
        for i, message in enumerate(self.messages):
            if message.receipt == receipt:
                del self.messages[i]
                return True
        return False


@dataclass(frozen=True)
class SqsKeys:
    """The IAM keys allowed to read the queue, and where it is."""

    access_key_id: str = "AKIASANDBOXQUEUE0001"
    secret_access_key: str = "sandbox/aws-secret-access-key"
    region: str = "us-east-1"


def refusal(
    keys: SqsKeys, method: str, url: str, headers: dict[str, str], body: bytes
) -> dict[str, Any] | None:
    """Why SQS would refuse the request's signature (a 403's body), or None when it holds.
    `headers` has lower-case names; `url` is the request's, with the Host it was sent to."""
    given = parse_authorization(headers.get("authorization", ""))
    stamp = headers.get("x-amz-date", "")
    if given is None or not stamp:
        return sqs_error("MissingAuthenticationToken", "Request is missing Authentication Token")
    key_id, scope, names, found = given
    if key_id != keys.access_key_id:
        return sqs_error(
            "InvalidClientTokenId", "The security token included in the request is invalid."
        )
    day, region, service, _ = scope.split("/")
    signed = {name: headers.get(name, "") for name in names}
    wanted = signature(keys.secret_access_key, scope, stamp, method, url, signed, body)
    sound = (
        day == stamp[:8] and region == keys.region and service == "sqs" and "host" in names
        and hmac.compare_digest(wanted, found)
    )  # fmt: skip
    if not sound:
        return sqs_error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    return None


def sqs_error(code: str, message: str) -> dict[str, Any]:
    return {"__type": f"com.amazonaws.sqs#{code}", "message": message}


def handle(
    queue: NotificationQueue, target: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """One SQS JSON-protocol action: (status, answer)."""
    if target == "AmazonSQS.ReceiveMessage":
        most = body.get("MaxNumberOfMessages", 1)
        if not isinstance(most, int) or not 1 <= most <= MAX_RECEIVE:
            return 400, sqs_error("InvalidParameterValue", "MaxNumberOfMessages must be 1-10")
        visibility = body.get("VisibilityTimeout", DEFAULT_VISIBILITY)
        if not isinstance(visibility, int | float) or visibility < 0:
            return 400, sqs_error("InvalidParameterValue", "VisibilityTimeout must be >= 0")
        found = queue.receive(most, float(visibility))
        return 200, ({"Messages": found} if found else {})
    if target == "AmazonSQS.DeleteMessageBatch":
        entries = body.get("Entries")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_RECEIVE:
            return 400, sqs_error("EmptyBatchRequest", "Entries must hold 1-10 entries")
        done, failed = [], []
        for entry in entries:
            if queue.delete(str(entry.get("ReceiptHandle"))):
                done.append({"Id": entry.get("Id")})
            else:
                failed.append(
                    {
                        "Id": entry.get("Id"),
                        "Code": "ReceiptHandleIsInvalid",
                        "Message": "The receipt handle is not valid",
                        "SenderFault": True,
                    }
                )
        return 200, {"Successful": done, "Failed": failed}
    return 400, sqs_error("InvalidAction", f"unsupported action {target!r}")
