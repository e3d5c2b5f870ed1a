"""An OAuth token store for tests where no port asks for a token."""

from __future__ import annotations

import uuid

from adapters.channel_kit.tokens import Refresh


class NoTokens:
    """Fails the test if a port asks for a token: the ports under test call no OAuth API."""

    async def access_token(self, channel_id: uuid.UUID, refresh: Refresh) -> str:
        raise AssertionError(f"channel {channel_id} asked for an OAuth token")

    async def expire(self, channel_id: uuid.UUID, access_token: str) -> None:
        raise AssertionError(f"channel {channel_id} expired an OAuth token")
