"""eBay's published OpenAPI contracts as validators: every body the sandbox takes or gives.

The three specs (Sell Inventory 1.18.4, Sell Fulfillment 1.20.7, Commerce Notification
1.6.2) are kept gzipped in `sandbox/specs`. Their objects are open to undeclared fields,
which would let a misspelt field through: here every object that declares properties is
closed to others. One field is fixed: `aspects` (Product, InventoryItemGroup) is declared a
*string*, yet eBay takes, returns and documents in that very field's description the
example `"aspects": {"Brand": ["GoPro"], "Storage Type": ["Removable"]}` — an object of name
-> list of values. The published schema is wrong against its own example; the example wins.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import jsonschema

from sandbox import specs

INVENTORY: Final = "sell_inventory_v1_oas3.json"
FULFILLMENT: Final = "sell_fulfillment_v1_oas3.json"
NOTIFICATION: Final = "commerce_notification_v1_oas3.json"
BASE_PATHS: Final = {
    "/sell/inventory/v1": INVENTORY,
    "/sell/fulfillment/v1": FULFILLMENT,
    "/commerce/notification/v1": NOTIFICATION,
}
# What eBay's own example in the `aspects` description shows (see the module docstring).
ASPECTS_AS_DOCUMENTED: Final = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


@dataclass(frozen=True, slots=True)
class Operation:
    spec: str
    method: str
    template: str  # the path as the spec writes it, e.g. /offer/{offerId}/publish
    request: str | None  # the component schema of the request body, if it has one
    responses: dict[str, str | None]  # status -> component schema of the body
    headers: frozenset[str]  # the header parameters it names (Content-Language...), lower-case


@cache
def _spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(specs.read(name))
    return loaded


@cache
def closed_schemas(name: str) -> dict[str, Any]:
    """The spec's component schemas, every object closed, `aspects` as documented."""
    schemas: dict[str, Any] = copy.deepcopy(_spec(name)["components"]["schemas"])
    for schema in _walk(schemas):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    for component in ("Product", "InventoryItemGroup"):
        properties = schemas.get(component, {}).get("properties", {})
        if "aspects" in properties:
            properties["aspects"] = {**ASPECTS_AS_DOCUMENTED}
    return schemas


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _component(content: Any) -> str | None:
    ref = (content or {}).get("application/json", {}).get("schema", {}).get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


@cache
def _operations() -> list[tuple[re.Pattern[str], Operation]]:
    found = []
    for base, name in BASE_PATHS.items():
        for template, methods in _spec(name)["paths"].items():
            variable = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            pattern = re.compile("^" + re.escape(base) + variable + "/?$")
            for method, op in methods.items():
                if method not in ("get", "put", "post", "delete"):
                    continue
                responses = {
                    status: _component(answer.get("content"))
                    for status, answer in op.get("responses", {}).items()
                }
                request = _component(op.get("requestBody", {}).get("content"))
                headers = frozenset(
                    p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"
                )
                op = Operation(name, method.upper(), template, request, responses, headers)
                found.append((pattern, op))
    # Literal segments first: /offer/publish_by_inventory_item_group before /offer/{offerId}.
    found.sort(key=lambda pair: pair[1].template.count("{"))
    return found


def operation(method: str, path: str) -> Operation | None:
    """The spec's operation for a request, by method and concrete path."""
    for pattern, op in _operations():
        if op.method == method.upper() and pattern.match(path):
            return op
    return None


@cache
def _validator(spec: str, component: str) -> jsonschema.Draft4Validator:
    schema = {
        "$ref": f"#/components/schemas/{component}",
        "components": {"schemas": closed_schemas(spec)},
    }
    return jsonschema.Draft4Validator(schema)


def errors(spec: str, component: str, body: Any) -> list[str]:
    """What the component schema refuses in `body` (empty: it validates)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}"
        for e in _validator(spec, component).iter_errors(body)
    ]


def request_errors(method: str, path: str, body: Any) -> list[str]:
    """What eBay's spec refuses in the body of `method path`; unknown operations refuse."""
    op = operation(method, path)
    if op is None:
        return [f"no operation {method} {path} in eBay's specs"]
    if op.request is None:
        return [] if body is None else [f"{method} {op.template} takes no body"]
    return errors(op.spec, op.request, body)


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """What eBay's spec refuses in the answer `status, body` to `method path`."""
    op = operation(method, path)
    if op is None:
        return [f"no operation {method} {path} in eBay's specs"]
    if status >= 400:
        # Error answers carry no schema in the spec (401 and 429 are not even listed, being
        # the gateway's): an errors[] body is checked against the spec's Error component.
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            return [m for e in body["errors"] for m in errors(op.spec, "Error", e)]
        return []
    if str(status) not in op.responses:
        return [f"{method} {op.template} never answers {status}"]
    component = op.responses[str(status)]
    if status == 207 and body is not None:
        return errors(op.spec, _multi_status(op), body)  # a bulk call's partial success
    if body is None or component is None:
        return []
    return errors(op.spec, component, body)


def _multi_status(op: Operation) -> str:
    """A bulk call's 207 carries its 200's shape (the spec leaves it without a schema)."""
    return op.responses.get("200") or "BaseResponse"
