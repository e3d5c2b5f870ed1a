"""MercadoLibre's OAuth: an access token (6 hours) from the seller's refresh token.

`POST {api}/oauth/token` with the form `grant_type=refresh_token, client_id, client_secret,
refresh_token` answers `{access_token, token_type: "bearer", expires_in: 21600, scope,
user_id, refresh_token}`. The refresh token works ONCE: each answer carries the next one, and
a spent one is refused for good (`invalid_grant`). So the refresh is only ever made through
the hub's token store, which lets one caller across all processes make it and stores the
rotated refresh token (in the `Grant`) before the access token is handed out; this module is
only the call the store makes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import httpx

from adapters.channel_kit.tokens import Grant, Refresh
from domain.channels.port import ChannelMisconfigured, ChannelThrottled, ChannelUnavailable
from domain.clock import Clock

TOKEN_PATH: Final = "/oauth/token"
DEFAULT_SECONDS: Final = 21_600


def token_refresh(
    http: httpx.AsyncClient,
    *,
    origin: str,
    client_id: str,
    client_secret: str,
    seller_token: str,
    clock: Clock,
    timeout: float = 10.0,
) -> Refresh:
    async def refresh(refresh_token: str | None) -> Grant:
        form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token or seller_token,
        }
        asked = clock()
        try:
            answer = await http.post(
                origin + TOKEN_PATH, data=form, timeout=timeout,
                headers={"Accept": "application/json"},
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise ChannelUnavailable(
                f"MercadoLibre's token endpoint did not answer: {error!r}"
            ) from None
        body = _json(answer)
        token, following = body.get("access_token"), body.get("refresh_token")
        if answer.status_code == 200 and isinstance(token, str) and isinstance(following, str):
            seconds = body.get("expires_in")
            seconds = seconds if isinstance(seconds, int) and seconds > 0 else DEFAULT_SECONDS
            return Grant(token, asked + timedelta(seconds=seconds), refresh_token=following)
        said = f"{body.get('error', answer.status_code)}: {body.get('message', '')}"
        if answer.status_code in (400, 401, 403):  # invalid_grant (spent), invalid_client
            raise ChannelMisconfigured(f"MercadoLibre refused the seller's credentials ({said})")
        if answer.status_code == 429:
            raise ChannelThrottled(f"MercadoLibre's token endpoint is throttling ({said})")
        raise ChannelUnavailable(f"MercadoLibre's token endpoint failed ({said})")

    return refresh


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
