"""Webhook delivery as Shopify does it: signed POSTs, retried when not acknowledged.

Each event is POSTed to the subscription URL with `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of
the raw body with the app's secret), `X-Shopify-Topic`, `-Shop-Domain`, `-API-Version`,
`-Webhook-Id` (new for every delivery), `-Event-Id` (the same for every delivery of one event)
and `-Triggered-At`. An answer other than 2xx, a connection error or a timeout (5 s) schedules a
retry: 8 retries after the first attempt, spaced out over about four hours, measured with the
injected clock. Nothing runs in the background unless asked: `deliver_due()` sends what is due.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.shopify.faults import Faults

RETRY_DELAYS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
TIMEOUT_SECONDS = 5.0
TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "inventory_levels/update",
        "products/create",
        "products/update",
    }
)
DEFAULT_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "inventory_levels/update",
        "products/update",
    }
)


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Event:
    topic: str
    event_id: str
    body: bytes
    triggered_at: str


@dataclass
class Delivery:
    event: Event
    attempts: int
    due: float


class WebhookOutbox:
    """Events waiting to be delivered, and the log of every delivery."""

    def __init__(
        self,
        *,
        shop_domain: str,
        api_version: str,
        secret: str,
        url: str | None,
        client: httpx.AsyncClient | None,
        clock: Callable[[], float],
        faults: Faults,
        topics: Collection[str] = DEFAULT_TOPICS,
    ) -> None:
        self.shop_domain, self.api_version, self.secret = shop_domain, api_version, secret
        self.url = url
        self.topics = set(topics)
        self._client, self._owns_client = client, client is None
        self._clock, self._faults = clock, faults
        self.pending: list[Delivery] = []
        self.log: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    def publish(self, topic: str, payload: dict[str, Any], triggered_at: str) -> None:
        # Without a subscription for the topic Shopify sends nothing, and never will for this event.
        if self.url is None or topic not in self.topics:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        event = Event(topic, str(uuid.uuid4()), body, triggered_at)
        self.pending.append(Delivery(event, attempts=0, due=self._clock()))

    async def deliver_due(self) -> int:
        """POST every delivery that is due; returns how many POSTs were attempted."""
        async with self._lock:
            now = self._clock()
            due = [d for d in self.pending if d.due <= now]
            self.pending = [d for d in self.pending if d.due > now]
            attempted = 0
            for delivery in due:
                attempted += await self._deliver(delivery, now)
            return attempted

    async def _deliver(self, delivery: Delivery, now: float) -> int:
        event = delivery.event
        if delivery.attempts == 0 and self._faults.drop():
            self.log.append(_entry(event, None, "dropped", 0, None, None))
            return 0
        delivery.attempts += 1
        webhook_id, status, error = await self._post(event)
        if status is not None and 200 <= status < 300:
            self.log.append(
                _entry(event, webhook_id, "delivered", delivery.attempts, status, error)
            )
            if self._faults.duplicate():
                webhook_id, status, error = await self._post(event)
                entry = _entry(event, webhook_id, "duplicate", delivery.attempts, status, error)
                self.log.append(entry)
                return 2
            return 1
        retries_done = delivery.attempts - 1
        if retries_done < len(RETRY_DELAYS):
            delivery.due = now + RETRY_DELAYS[retries_done]
            self.pending.append(delivery)
            outcome = "retry_scheduled"
        else:
            outcome = "gave_up"
        self.log.append(_entry(event, webhook_id, outcome, delivery.attempts, status, error))
        return 1

    async def _post(self, event: Event) -> tuple[str, int | None, str | None]:
        """(X-Shopify-Webhook-Id used, status answered or None, error class or None)."""
        assert self.url is not None
        webhook_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Hmac-Sha256": sign(event.body, self.secret),
            "X-Shopify-Topic": event.topic,
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": event.event_id,
            "X-Shopify-Triggered-At": event.triggered_at,
        }
        try:
            response = await self._http().post(
                self.url, content=event.body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as error:
            return webhook_id, None, type(error).__name__
        return webhook_id, response.status_code, None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        return self._client

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None


def _entry(
    event: Event,
    webhook_id: str | None,
    outcome: str,
    attempt: int,
    status: int | None,
    error: str | None,
) -> dict[str, Any]:
    return {
        "topic": event.topic,
        "event_id": event.event_id,
        "webhook_id": webhook_id,
        "attempt": attempt,
        "status": status,
        "outcome": outcome,
        "error": error,
    }
