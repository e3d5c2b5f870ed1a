"""Amazon's official models as the sandbox's contract: schemas to validate against, and the
documented rate limits of each operation.

The Swagger 2.0 models (amzn/selling-partner-api-models, kept in `sandbox/specs`) give each
operation's request body and response schemas under `#/definitions`, and its usage plan in
its description ("| Rate (requests per second) | Burst |"). The sandbox reads both from the
models themselves, so its limits and its checks are Amazon's, not a copy of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from sandbox.amazon import fba_model
from sandbox.amazon.schemas import Schema
from sandbox.specs import read

MODELS: Final = {
    "listings": "listingsItems_2021-08-01.json",
    "orders": "orders_2026-01-01.json",
    "ordersV0": "ordersV0.json",
    "feeds": "feeds_2021-06-30.json",
    "reports": "reports_2021-06-30.json",
    "fbaInventory": "",  # written out in `fba_model` (the official file is not in the specs)
}
_RATE = re.compile(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")


class ContractViolation(Exception):
    """A body that does not validate against the official schema."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class Operation:
    model: str
    name: str  # operationId
    rate: float  # requests per second, as documented
    burst: int
    request: str | None  # the body's definition name
    responses: dict[str, str | None]  # status -> definition name


@cache
def model(name: str) -> dict[str, Any]:
    if name == "fbaInventory":
        return fba_model.MODEL
    loaded: dict[str, Any] = json.loads(read(MODELS[name]))
    return loaded


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the models, by operationId (prefixed by model when shared)."""
    found: dict[str, Operation] = {}
    for key in MODELS:
        for ops in model(key)["paths"].values():
            for method, op in ops.items():
                if method == "parameters":
                    continue
                rate = _RATE.search(op.get("description", ""))
                body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
                name = op["operationId"] if key != "ordersV0" else f"v0.{op['operationId']}"
                found[name] = Operation(
                    model=key,
                    name=name,
                    rate=float(rate.group(1)) if rate else 1.0,
                    burst=int(rate.group(2)) if rate else 1,
                    request=_definition(body[0]["schema"]) if body else None,
                    responses={
                        status: _definition(answer.get("schema"))
                        for status, answer in op["responses"].items()
                    },
                )
    return found


def _definition(schema: dict[str, Any] | None) -> str | None:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


@cache
def _validator(model_name: str, definition: str) -> Schema:
    # Swagger 2.0 schemas are a JSON Schema draft 4 dialect; extensions (x-…) are ignored.
    schema = {
        "definitions": model(model_name)["definitions"],
        "$ref": f"#/definitions/{definition}",
    }
    return Schema(schema, draft=4)


def check(model_name: str, definition: str, body: Any, where: str) -> None:
    """Raise ContractViolation unless `body` validates against the model's definition."""
    _raise_first(_validator(model_name, definition), body, where, "")


def check_request(operation: str, body: Any) -> None:
    op = operations()[operation]
    if op.request is not None:
        check(op.model, op.request, body, f"{operation} request")


def check_response(operation: str, status: int, body: Any) -> None:
    op = operations()[operation]
    definition = op.responses.get(str(status))
    if definition is not None:
        check(op.model, definition, body, f"{operation} {status} response")


@cache
def _json_schema(name: str) -> Schema:
    return Schema(json.loads(read(name)), draft=7)


def check_document(name: str, document: Any, where: str) -> None:
    """Validate a JSON Schema document (the listings feed, its report, a notification)."""
    _raise_first(_json_schema(name), document, where, "")


FEED_SCHEMA: Final = "listings-feed-schema-v2.json"


@cache
def _feed_parts() -> tuple[Schema, Schema]:
    """The listings feed schema as its envelope (the header, the bounds of `messages`) and the
    schema of one message: together the whole schema (its messages' schema refers to nothing
    outside itself), so a feed is checked message by message as it is processed."""
    schema = json.loads(read(FEED_SCHEMA))
    message = schema["properties"]["messages"].pop("items")
    return Schema(schema, draft=7), Schema(message, draft=7)


def check_feed_envelope(document: Any) -> None:
    _raise_first(_feed_parts()[0], document, "JSON_LISTINGS_FEED", "")


def check_feed_message(message: Any, position: int) -> None:
    _raise_first(_feed_parts()[1], message, "JSON_LISTINGS_FEED", f"messages/{position}/")


def _raise_first(schema: Schema, document: Any, where: str, prefix: str) -> None:
    error = schema.first_error(document)
    if error is not None:
        at = prefix + error[0] or "(root)"
        raise ContractViolation(where, f"{at}: {error[1][:300]}")


REPORT_SCHEMA: Final = "listings-feed-processing-report-schema-v2.json"
ORDER_CHANGE_SCHEMA: Final = "OrderChangeNotification.json"
QUANTITY_CHANGE_SCHEMA: Final = "ListingsItemMfnQuantityChange.json"
SALES_AND_TRAFFIC_SCHEMA: Final = "sellerSalesAndTrafficReport.json"
