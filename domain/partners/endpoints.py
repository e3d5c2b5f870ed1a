"""Where a dropship or 3PL location's partner hears of its work: a URL and a shared secret.

The secret is stored sealed, as channel credentials are, and never read back out through
the API; the partner checks each webhook's signature with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from domain.api_keys import PARTNER_KINDS
from domain.catalog.ports import SecretBox
from domain.errors import InvalidInput, NotFound
from domain.jobs import DELIVER_REQUESTS_JOB
from domain.ports import UnitOfWork

MIN_SECRET = 16
MAX_SECRET = 200
MAX_URL = 2_048


@dataclass(frozen=True, slots=True)
class PartnerEndpoint:
    location_id: uuid.UUID
    url: str
    sealed_secret: bytes
    updated_at: datetime


async def set_partner_endpoint(
    uow: UnitOfWork,
    *,
    location_id: uuid.UUID,
    url: str,
    secret: str,
    box: SecretBox,
    now: datetime,
) -> PartnerEndpoint:
    """Point a partner location's requests at `url`, signed with `secret` (replacing both).
    Requests waiting for an endpoint are delivered by the next run."""
    location = await uow.inventory.get_location(location_id)
    if location is None:
        raise NotFound(f"unknown location {location_id}", field="locationId")
    if location.kind not in PARTNER_KINDS:
        raise InvalidInput(
            f"only a dropship or 3pl location has a partner, not a {location.kind.value} one",
            field="locationId",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise InvalidInput("an http(s) URL of at most 2048 characters", field="url")
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise InvalidInput(f"a secret of {MIN_SECRET} to {MAX_SECRET} characters", field="secret")
    endpoint = PartnerEndpoint(location_id, url, box.seal(secret.encode()), now)
    await uow.partners.set_endpoint(endpoint)
    uow.enqueue_after_commit(DELIVER_REQUESTS_JOB)  # what waited for an endpoint goes now
    return endpoint
