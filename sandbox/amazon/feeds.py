"""Feeds 2021-06-30: documents, the processing state machine, processing reports.

`createFeedDocument` gives an upload URL (a pre-signed S3 URL in production; here a path of
the sandbox taking a PUT without the access token); `createFeed` queues the uploaded document:
IN_QUEUE for `queue_seconds` (and until the seller's earlier feeds are processed: one
seller's feeds are processed one after another, in the order they were created, so splitting
a push into several feeds never finishes it sooner), IN_PROGRESS while its messages are
processed at `messages_per_second` (the sandbox's documented throughput), then DONE with a
`resultFeedDocumentId` whose document is the processing report, GZIP-compressed. A
JSON_LISTINGS_FEED's messages are processed in order while it is IN_PROGRESS, as many as its
throughput allows by then (each checked against the official schema as it is reached: a
document whose header or a message does not validate is FATAL from there on); the report is
given when the feed is DONE.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.amazon.orders import iso

QUEUE_SECONDS = 0.5
MESSAGES_PER_SECOND = 2000.0

_ids = itertools.count(50_001)


@dataclass
class Document:
    document_id: str
    content_type: str
    content: bytes | None = None
    compressed: bool = False


@dataclass
class Run:
    """A listings feed being processed: its document, how far, and what was found."""

    header: dict[str, Any]
    messages: list[dict[str, Any]]
    fatal: str | None = None
    done: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)  # the report's, as processed


@dataclass
class Feed:
    feed_id: str
    feed_type: str
    marketplace_ids: list[str]
    document_id: str
    created: float
    starts: float
    ends: float
    status: str = "IN_QUEUE"  # CANCELLED, DONE, FATAL set once they happen
    result_document_id: str | None = None
    run: Run | None = None  # a listings feed's processing so far

    def reached(self, now: float, messages: int) -> int:
        """How many of its messages the feed's throughput has processed by `now`."""
        if now >= self.ends or self.ends <= self.starts:
            return messages
        share = max(0.0, now - self.starts) / (self.ends - self.starts)
        return min(messages, int(share * messages))

    def view(self, now: float) -> dict[str, Any]:
        status = self.status
        if status == "IN_QUEUE" and now >= self.starts:
            status = "IN_PROGRESS"
        found: dict[str, Any] = {
            "feedId": self.feed_id,
            "feedType": self.feed_type,
            "marketplaceIds": self.marketplace_ids,
            "createdTime": iso(self.created),
            "processingStatus": status,
        }
        if status != "IN_QUEUE" and status != "CANCELLED":
            found["processingStartTime"] = iso(self.starts)
        if status in ("DONE", "FATAL"):
            found["processingEndTime"] = iso(self.ends)
        if self.result_document_id:
            found["resultFeedDocumentId"] = self.result_document_id
        return found


@dataclass
class Feeds:
    clock: Callable[[], float]
    queue_seconds: float = QUEUE_SECONDS
    messages_per_second: float = MESSAGES_PER_SECOND
    documents: dict[str, Document] = field(default_factory=dict)
    feeds: dict[str, Feed] = field(default_factory=dict)

    def new_document(self, content_type: str) -> Document:
        document = Document(f"amzn1.tortuga.4.na.{next(_ids)}", content_type)
        self.documents[document.document_id] = document
        return document

    def create(self, feed_type: str, marketplaces: list[str], document_id: str, size: int) -> Feed:
        now = self.clock()
        earlier = [f.ends for f in self.feeds.values() if f.status != "CANCELLED"]
        starts = max([now + self.queue_seconds, *earlier])
        feed = Feed(
            str(next(_ids)), feed_type, marketplaces, document_id, now, starts,
            starts + size / self.messages_per_second,
        )  # fmt: skip
        self.feeds[feed.feed_id] = feed
        return feed

    def processing(self) -> list[Feed]:
        """Feeds out of the queue whose outcome is not yet recorded."""
        now = self.clock()
        return [f for f in self.feeds.values() if f.status == "IN_QUEUE" and f.starts <= now]

    def due(self) -> list[Feed]:
        """Feeds whose processing has ended by now and whose outcome is not yet recorded."""
        now = self.clock()
        return [f for f in self.feeds.values() if f.status == "IN_QUEUE" and f.ends <= now]
