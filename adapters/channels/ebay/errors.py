"""eBay's errors[] as the port's typed failures.

Every Sell API answers a refusal with `{"errors": [{errorId, domain, category, message,
longMessage, parameters[{name, value}]}]}`. The ids the hub tells apart (channel-contracts §3):
25002 a user error (the value named in `parameters`), 25003 an invalid price, 25004 an
invalid quantity, 25709 an invalid value, 32100 an invalid order, 32200 an invalid line
item, 32300 an invalid tracking number; 1001 a token eBay refuses; 2001 the call quota
(429); 25001 eBay's own failure.
"""

from __future__ import annotations

from typing import Any, Final

from domain.channels.port import (
    ChannelFailure,
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
)

SYSTEM_ERROR: Final = 25001
USER_ERROR: Final = 25002
INVALID_PRICE: Final = 25003
INVALID_QUANTITY: Final = 25004
INVALID_VALUE: Final = 25709
INVALID_TOKEN: Final = 1001
TOO_MANY_REQUESTS: Final = 2001
INVALID_ORDER: Final = 32100
INVALID_LINE_ITEM: Final = 32200
INVALID_TRACKING: Final = 32300
# Seconds to hold an API's calls after a 429: eBay sends no Retry-After.
THROTTLE_SECONDS: Final = 5.0


def entries(body: Any) -> list[dict[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def describe(errors: list[dict[str, Any]]) -> str:
    """eBay's messages with their ids and the values they name: "25002 title too long
    (field=title)"."""
    parts = []
    for e in errors:
        named = ", ".join(
            f"{p.get('name')}={p.get('value')}"
            for p in e.get("parameters") or []
            if isinstance(p, dict)
        )
        text = f"{e.get('errorId', '?')} {e.get('longMessage') or e.get('message') or ''}".strip()
        parts.append(f"{text} ({named})" if named else text)
    return "; ".join(parts) or "no message"


def error_ids(errors: list[dict[str, Any]]) -> set[int]:
    return {e["errorId"] for e in errors if isinstance(e.get("errorId"), int)}


def failure(status: int, body: Any, operation: str) -> ChannelFailure:
    """The typed failure of a call eBay did not carry out."""
    errors = entries(body)
    said = describe(errors) if errors else f"HTTP {status}"
    if status == 429 or TOO_MANY_REQUESTS in error_ids(errors):
        return ChannelThrottled(
            f"eBay's call limit for {operation}: {said}", retry_after=THROTTLE_SECONDS
        )
    if status in (401, 403):
        return ChannelMisconfigured(f"eBay refused the seller's token for {operation}: {said}")
    if status >= 500 or SYSTEM_ERROR in error_ids(errors):
        return ChannelUnavailable(f"eBay failed {operation} ({status}): {said}")
    return ChannelRejected(f"eBay refused {operation}: {said}")
