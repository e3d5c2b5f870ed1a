"""Posting fulfilment requests (and their cancellations) to partners: signed with each
partner's (sealed) secret."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from adapters.logging import get_logger
from adapters.partners.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature
from domain.catalog.ports import SecretBox
from domain.partners.endpoints import PartnerEndpoint
from domain.partners.ports import DeliveryFailed

log = get_logger(__name__)
MAX_RETRY_AFTER = 3_600.0


class SignedWebhooks:
    def __init__(
        self,
        http: httpx.AsyncClient,
        box: Callable[[], SecretBox],
        wall_clock: Callable[[], float] = time.time,
    ):
        self._http = http
        self._box = box
        self._wall_clock = wall_clock

    async def deliver(
        self, endpoint: PartnerEndpoint, delivery_id: str, event: str, body: bytes
    ) -> None:
        try:
            secret = self._box().open(endpoint.sealed_secret)
        except ValueError as error:
            raise DeliveryFailed(f"the partner's secret cannot be opened: {error}") from None
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, int(self._wall_clock()), body),
            DELIVERY_HEADER: delivery_id,
            EVENT_HEADER: event,
        }
        started = time.monotonic()
        try:
            response = await self._http.post(endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            self._log(endpoint, delivery_id, "unreachable", started)
            raise DeliveryFailed(f"no answer: {type(error).__name__}") from None
        outcome = "delivered" if response.is_success else f"http {response.status_code}"
        self._log(endpoint, delivery_id, outcome, started)
        if not response.is_success:
            raise DeliveryFailed(
                f"the partner answered {response.status_code}", _retry_after(response)
            )

    def _log(
        self, endpoint: PartnerEndpoint, delivery_id: str, outcome: str, started: float
    ) -> None:
        log.info(
            "partner.webhook", location_id=str(endpoint.location_id), delivery=delivery_id,
            outcome=outcome, latency_ms=int((time.monotonic() - started) * 1000),
        )  # fmt: skip


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        return None
    return None if seconds is None else min(max(seconds, 0.0), MAX_RETRY_AFTER)
