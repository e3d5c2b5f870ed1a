"""A channel's OAuth access token, cached and refreshed once for every process.

Amazon (LWA), eBay and MercadoLibre hand out access tokens that last hours and are refreshed
with a refresh token; MercadoLibre's refresh token is single-use: each refresh returns the next
one, and using a spent one fails for good. So tokens are kept in one place shared by every
process (the database, see `adapters/db/token_store.py`), and a refresh is made by exactly one
caller at a time: the others wait for it and use its answer. The grant, with a rotated refresh
token, is stored before the access token is handed out, so the next refresh uses the newest.

A port asks `access_token(channel_id, refresh)` before each call, with its own `refresh` (the
channel's token endpoint, given the latest refresh token), and calls `expire` when the channel
refuses a token (401): the next caller refreshes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# A token with less than this left is refreshed before use: a call made with it must not
# reach the channel after it has expired.
EXPIRY_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a channel's token endpoint answered."""

    access_token: str
    expires_at: datetime  # aware, UTC
    refresh_token: str | None = None  # the next refresh token, when the channel rotates it


class Refresh(Protocol):
    async def __call__(self, refresh_token: str | None) -> Grant:
        """Ask the channel for a new access token. `refresh_token` is the latest one the
        channel issued (stored by the store), or None: use the one in the channel's
        credentials. Raises a `ChannelFailure` (nothing is stored then)."""
        ...


class TokenStore(Protocol):
    async def access_token(self, channel_id: uuid.UUID, refresh: Refresh) -> str:
        """A valid access token: the stored one while more than `EXPIRY_MARGIN` is left;
        otherwise one caller across all processes calls `refresh`, the others wait for it and
        use its answer, and the grant is stored before it is returned."""
        ...

    async def expire(self, channel_id: uuid.UUID, access_token: str) -> None:
        """The channel refused this token: the next caller refreshes, unless another caller
        has already replaced it."""
        ...
