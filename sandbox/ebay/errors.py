"""eBay's error shape: `{"errors": [{errorId, domain, subdomain, category, message, longMessage,
inputRefIds, parameters[{name, value}]}]}`, with the ids the Sell APIs use (channel-contracts
§3; ids marked ~ there are the sandbox's best reading and kept in one place here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INVENTORY = "API_INVENTORY"
FULFILLMENT = "API_FULFILLMENT"
NOTIFICATION = "API_NOTIFICATION"

SYSTEM_ERROR = 25001
USER_ERROR = 25002  # eBay's catch-all for a refused value, named in `parameters`
INVALID_PRICE = 25003
INVALID_QUANTITY = 25004
SKU_NOT_FOUND = 25702
OFFER_NOT_FOUND = 25713
INVALID_VALUE = 25709  # a field or header (Content-Language) with a value eBay refuses
INVALID_REQUEST = 2004  # a body the operation's schema refuses
INVALID_TOKEN = 1001
TOO_MANY_REQUESTS = 2001
INVALID_ORDER = 32100
INVALID_LINE_ITEM = 32200
INVALID_TRACKING = 32300
DUPLICATE_FULFILLMENT = 32500  # ~ the 409 of shipping_fulfillment


def error(
    error_id: int,
    message: str,
    *,
    domain: str = INVENTORY,
    category: str = "REQUEST",
    long_message: str | None = None,
    parameters: dict[str, str] | None = None,
    refs: list[str] | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "subdomain": domain.removeprefix("API_").title(),
        "category": category,
        "message": message,
        "longMessage": long_message or message,
    }
    if parameters:
        found["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    if refs:
        found["inputRefIds"] = refs
    return found


@dataclass
class EbayError(Exception):
    """An answer of errors[]: raised by the store, rendered by the app."""

    status: int
    errors: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def refused(status: int, error_id: int, message: str, **kwargs: Any) -> EbayError:
    return EbayError(status, [error(error_id, message, **kwargs)])
