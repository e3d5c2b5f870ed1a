"""Notification queues a channel's events wait in until the hub reads them.

Most channels POST their events to the hub (webhooks). Amazon puts them in the seller's SQS
queue instead, and the hub reads it: a kind with a queue gives a `QueueFactory` in its
descriptor, and a worker job (`adapters/desks/queue_reading.py`) reads every such channel's
queue, stores each message in the inbox as a webhook would be, and deletes it once stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.channels.config import ChannelConfig
from domain.channels.model import Channel


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    receipt: str  # what deletes this delivery of the message
    headers: Mapping[str, str]  # lower-case names, stored with the event
    body: bytes


class NotificationQueue(Protocol):
    async def receive(self) -> list[QueuedMessage]:
        """The messages waiting now (a few at a time); each stays hidden from other readers
        for a while and comes back unless deleted. Raises ChannelFailure."""
        ...

    async def delete(self, receipts: Sequence[str]) -> None:
        """The messages are stored: they leave the queue."""
        ...


# (channel, configuration, opened credentials) -> its queue, or None when it has none set up.
QueueFactory = Callable[[Channel, ChannelConfig, Mapping[str, str]], NotificationQueue | None]
