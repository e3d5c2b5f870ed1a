"""Amazon's notifications: read from the seller's SQS queue, stored in the inbox like webhooks.

Amazon sends SP-API notifications to an SQS queue (or EventBridge), never to an HTTP endpoint,
and signs nothing: what is in the seller's queue came from Amazon. So the hub's HTTP webhook
endpoint refuses every request for an Amazon channel (`verify` is False), and a worker job
reads the queue instead (`SqsQueue`, `adapters/desks/queue_reading.py`), storing each message
under its `NotificationId` (a redelivery, or Amazon's own duplicate, is one event) and
deleting it from the queue once stored.

Read: `ORDER_CHANGE` (an order, from its summary) and `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` (the
merchant-fulfilled quantity moved: a stock edit of the SKU); others are kept and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from adapters.channel_kit.queues import QueuedMessage
from adapters.channel_kit.sigv4 import AwsCredentials, sign
from adapters.channel_kit.timestamps import parse_time
from adapters.channels.amazon.orders import notified_order
from domain.channels.port import (
    ChannelMisconfigured,
    ChannelRejected,
    ChannelUnavailable,
    InboundEvent,
    InboundIdentity,
    InboundKind,
    InboundStockEdit,
)

ORDER_CHANGE: Final = "ORDER_CHANGE"
QUANTITY_CHANGE: Final = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"
# Stored with the event: the queue's own message id, for the record.
MESSAGE_HEADER: Final = "x-amz-sqs-message-id"
MAX_RECEIVE: Final = 10
VISIBILITY_SECONDS: Final = 60


def parse(body: bytes) -> InboundEvent:
    try:
        notification = json.loads(body)
    except ValueError:
        raise ChannelRejected("the notification is not JSON") from None
    if not isinstance(notification, dict):
        raise ChannelRejected("the notification is not an object")
    event_id = _dig(notification, "NotificationMetadata", "NotificationId")
    topic = notification.get("NotificationType")
    if not isinstance(event_id, str) or not event_id or not isinstance(topic, str):
        raise ChannelRejected("notification without NotificationType or NotificationId")
    occurred = parse_time(notification.get("EventTime"))
    if topic == ORDER_CHANGE:
        order = notified_order(notification)
        return InboundEvent(event_id, InboundKind.ORDER, topic, occurred, order=order)
    if topic == QUANTITY_CHANGE:
        payload = notification.get("Payload") or {}
        sku, quantity = payload.get("Sku"), payload.get("Quantity")
        if not isinstance(sku, str) or isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ChannelRejected(f"{topic} without Sku or Quantity")
        if payload.get("FulfillmentChannelCode", "DEFAULT") != "DEFAULT" or occurred is None:
            return InboundEvent(event_id, InboundKind.OTHER, topic, occurred)
        edit = InboundStockEdit(event_id, {"sku": sku}, quantity, occurred)
        return InboundEvent(event_id, InboundKind.STOCK_EDIT, topic, occurred, stock_edit=edit)
    return InboundEvent(event_id, InboundKind.OTHER, topic, occurred)


def identify(body: bytes) -> InboundIdentity:
    event = parse(body)
    return InboundIdentity(event.event_id, event.topic, event.kind)


class SqsQueue:
    """The seller's SQS queue, over the SQS JSON protocol (ReceiveMessage, DeleteMessageBatch),
    every request signed with AWS Signature V4 (service `sqs`) by the IAM user or role the
    seller gave Amazon's notifications to (`aws`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        queue_url: str,
        aws: AwsCredentials,
        *,
        endpoint: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._http = http
        self.queue_url = queue_url
        self._aws = aws
        self._endpoint = endpoint or queue_url
        self._clock = clock

    async def receive(self) -> list[QueuedMessage]:
        answer = await self._action(
            "ReceiveMessage",
            {"QueueUrl": self.queue_url, "MaxNumberOfMessages": MAX_RECEIVE,
             "VisibilityTimeout": VISIBILITY_SECONDS, "WaitTimeSeconds": 0},
        )  # fmt: skip
        found = []
        for message in answer.get("Messages") or ():
            if not isinstance(message, dict) or not isinstance(message.get("Body"), str):
                continue
            found.append(
                QueuedMessage(
                    receipt=str(message.get("ReceiptHandle")),
                    headers={MESSAGE_HEADER: str(message.get("MessageId"))},
                    body=message["Body"].encode(),
                )
            )
        return found

    async def delete(self, receipts: Sequence[str]) -> None:
        for start in range(0, len(receipts), MAX_RECEIVE):
            entries = [
                {"Id": str(n), "ReceiptHandle": receipt}
                for n, receipt in enumerate(receipts[start : start + MAX_RECEIVE])
            ]
            await self._action(
                "DeleteMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries}
            )

    async def _action(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(body).encode()
        headers = {"X-Amz-Target": f"AmazonSQS.{action}",
                   "Content-Type": "application/x-amz-json-1.0"}  # fmt: skip
        signed = sign(self._aws, "POST", self._endpoint, headers, content, self._clock())
        try:
            response = await self._http.post(
                self._endpoint, content=content, headers=signed, timeout=10
            )
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"could not reach the notification queue: {error!r}") from None
        try:
            answer = json.loads(response.content) if response.content else {}
        except ValueError:
            answer = None
        if response.status_code == 403:
            code = str((answer or {}).get("__type", "")).rpartition("#")[2] or "Forbidden"
            raise ChannelMisconfigured(f"the notification queue refused the AWS keys ({code})")
        if response.status_code != 200 or not isinstance(answer, dict):
            raise ChannelUnavailable(f"the queue answered {action} with {response.status_code}")
        return answer


def _dig(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node
