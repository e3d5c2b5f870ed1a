"""The notification queue, shaped like an SQS standard queue (JSON protocol).

Amazon delivers SP-API notifications to the seller's SQS queue (or EventBridge), never to an
HTTP endpoint. A standard queue delivers at least once: a message received and not deleted
within its visibility timeout is received again, and duplicates happen. Here:

- `POST /` with `X-Amz-Target: AmazonSQS.ReceiveMessage` `{QueueUrl, MaxNumberOfMessages
  (1-10), VisibilityTimeout}` → `{Messages: [{MessageId, ReceiptHandle, MD5OfBody, Body}]}`;
- `AmazonSQS.DeleteMessageBatch` `{QueueUrl, Entries: [{Id, ReceiptHandle}] (1-10)}` →
  `{Successful: [{Id}], Failed: [{Id, Code, Message, SenderFault}]}`.

Faults decide at publication: a dropped notification is never enqueued, a duplicated one is
enqueued twice with the same NotificationId (as Amazon's own redeliveries carry it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
