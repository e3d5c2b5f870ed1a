"""Feeds 2021-06-30: one document in, Amazon's processing report out.

The steps (channel-contracts §2): `createFeedDocument {contentType}` → `{feedDocumentId, url}`;
the document PUT to that (pre-signed) url; `createFeed {feedType, marketplaceIds,
inputFeedDocumentId}` → 202 `{feedId}`; `getFeed` polled until its processingStatus is DONE,
FATAL or CANCELLED; then `getFeedDocument` of its resultFeedDocumentId and that document read
(GZIP when `compressionAlgorithm` says so). createFeed is allowed one call every two minutes
after a burst of 15: a feed is worth it only for many SKUs.

getFeed is allowed 2 calls a second after a burst of 15, shared by every feed polled. A feed
being processed is polled at that rate (its outcome is what the relay waits for); one still
IN_QUEUE, behind the seller's earlier feeds, less often (`FeedPolls`), so several feeds in
flight stay within the rate.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from adapters.channel_kit.feeds import FeedsInFlight, MemoryFeedsInFlight
from adapters.channels.amazon.client import AmazonClient
from domain.channels.port import ChannelRejected, ChannelUnavailable

PATH: Final = "/feeds/2021-06-30"
FINISHED: Final = frozenset({"DONE", "FATAL", "CANCELLED"})


@dataclass(frozen=True, slots=True)
class FeedPolls:
    """Seconds before each getFeed: `running` while IN_PROGRESS, `queued` while IN_QUEUE;
    after `give_up` seconds of polls the SKUs are left for the relay to send again."""

    running: float = 0.5
    queued: float = 2.0
    give_up: float = 90.0


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    feed_id: str
    status: str  # DONE, FATAL, CANCELLED
    report: bytes | None  # the processing report's bytes, decompressed


class FeedSender:
    def __init__(
        self,
        client: AmazonClient,
        http: httpx.AsyncClient,
        marketplace_id: str,
        pause: Callable[[float], Awaitable[None]],
        polls: FeedPolls,
        in_flight: FeedsInFlight | None = None,
    ):
        self._client = client
        self._in_flight = in_flight or MemoryFeedsInFlight()
        self._http = http
        self._marketplace = marketplace_id
        self._pause = pause
        self._polls = polls

    async def send(self, feed_type: str, content_type: str, content: bytes) -> FeedOutcome:
        """Submit the document as a feed and wait for its outcome; ChannelUnavailable when
        Amazon has not finished it after the polls (the caller's retry submits it again)."""
        channel = self._client.channel_id
        digest = hashlib.sha256(feed_type.encode() + b"\n" + content).hexdigest()
        feed_id = await self._in_flight.find(channel, digest)
        if feed_id is None:
            feed_id = await self._create(feed_type, content_type, content)
            await self._in_flight.remember(channel, digest, feed_id, self._client.now())
        try:
            outcome = await self._outcome(feed_id)
        except ChannelRejected:
            await self._in_flight.forget(channel, digest)  # Amazon knows no such feed
            raise ChannelUnavailable(f"Amazon does not know feed {feed_id}") from None
        await self._in_flight.forget(channel, digest)
        return outcome

    async def _create(self, feed_type: str, content_type: str, content: bytes) -> str:
        made = await self._client.call(
            "createFeedDocument", "POST", f"{PATH}/documents",
            body={"contentType": content_type}, ok=(201,),
        )  # fmt: skip
        document_id, url = _field(made.body, "feedDocumentId"), _field(made.body, "url")
        await self._transfer("PUT", url, content, content_type)
        created = await self._client.call(
            "createFeed", "POST", f"{PATH}/feeds",
            body={"feedType": feed_type, "marketplaceIds": [self._marketplace],
                  "inputFeedDocumentId": document_id},
            ok=(202,),
        )  # fmt: skip
        return _field(created.body, "feedId")

    async def _outcome(self, feed_id: str) -> FeedOutcome:
        """Poll the feed until it is finished; its outcome, with its report."""
        waited, wait = 0.0, self._polls.running
        while waited + wait <= self._polls.give_up:
            await self._pause(wait)
            waited += wait
            feed = (await self._client.call("getFeed", "GET", f"{PATH}/feeds/{feed_id}")).body
            status = str(feed.get("processingStatus"))
            if status in FINISHED:
                result = feed.get("resultFeedDocumentId")
                report = await self._report(str(result)) if result else None
                return FeedOutcome(feed_id, status, report)
            wait = self._polls.queued if status == "IN_QUEUE" else self._polls.running
        raise ChannelUnavailable(f"Amazon has not processed feed {feed_id} yet")

    async def _report(self, document_id: str) -> bytes:
        found = await self._client.call("getFeedDocument", "GET", f"{PATH}/documents/{document_id}")
        raw = await self._transfer("GET", _field(found.body, "url"), None, None)
        if found.body.get("compressionAlgorithm") == "GZIP":
            try:
                return gzip.decompress(raw)
            except (OSError, EOFError):
                raise ChannelUnavailable("Amazon's processing report is not GZIP") from None
        return raw

    async def _transfer(
        self, method: str, url: str, content: bytes | None, content_type: str | None
    ) -> bytes:
        """The document's pre-signed URL: no access token, no rate limit of the API."""
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            response = await self._http.request(
                method, url, content=content, headers=headers, timeout=30
            )
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"feed document {method} failed: {error!r}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"feed document {method} answered {response.status_code}")
        return response.content


def _field(body: Any, name: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise ChannelUnavailable(f"Amazon's answer has no {name}")
    return value


def fatal(outcome: FeedOutcome) -> ChannelRejected:
    return ChannelRejected(f"Amazon could not process feed {outcome.feed_id} ({outcome.status})")
