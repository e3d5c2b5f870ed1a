"""eBay's OAuth: a user access token from the seller's refresh token.

`POST {identity}/identity/v1/oauth2/token` with `Authorization: Basic base64(client_id:
client_secret)` and the form `grant_type=refresh_token, refresh_token, scope` answers
`{access_token, expires_in (7200), token_type}`; eBay's refresh tokens last 18 months and are
not rotated. The token is kept and shared by the hub's token store (one refresh for every
process); this module is only the call the store makes when it needs a new one.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any, Final

import httpx

from adapters.channel_kit.tokens import Grant, Refresh
from domain.channels.port import ChannelMisconfigured, ChannelThrottled, ChannelUnavailable
from domain.clock import Clock

TOKEN_PATH: Final = "/identity/v1/oauth2/token"
SCOPES: Final = (
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.analytics.readonly",
)


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
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    async def refresh(refresh_token: str | None) -> Grant:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token or seller_token,
            "scope": " ".join(SCOPES),
        }
        asked = clock()
        try:
            answer = await http.post(
                origin + TOKEN_PATH, data=form, timeout=timeout,
                headers={"Authorization": f"Basic {basic}"},
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"eBay's token endpoint did not answer: {error!r}") from None
        body = _json(answer)
        if answer.status_code == 200 and isinstance(body.get("access_token"), str):
            seconds = body.get("expires_in")
            seconds = seconds if isinstance(seconds, int) and seconds > 0 else 7200
            return Grant(body["access_token"], asked + timedelta(seconds=seconds))
        said = f"{body.get('error', answer.status_code)}: {body.get('error_description', '')}"
        if answer.status_code in (400, 401):  # invalid_grant, invalid_client: fix the keys
            raise ChannelMisconfigured(f"eBay refused the seller's credentials ({said})")
        if answer.status_code == 429:
            raise ChannelThrottled(f"eBay's token endpoint is throttling ({said})")
        raise ChannelUnavailable(f"eBay's token endpoint failed ({said})")

    return refresh


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
