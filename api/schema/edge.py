"""Every argument checked once, at the edge, before any resolver sees it.

GraphQL checks types (an `Int` is 32 bits); this checks what the storage and the domain
cannot take and would otherwise meet as an internal error: strings must be valid Unicode
(no lone surrogate), hold no control character but tab and line breaks (PostgreSQL refuses
NUL), and fit a length cap (by field name: `STRING_CAPS`, else `DEFAULT_STRING_CAP`); lists
fit `LIST_CAPS` (the driver binds at most 32,767 parameters per statement); `JSON` values
are shallow and small, their strings checked alike. Sums of numbers (on hand + received)
and money amounts are checked by the domain, which knows them.

`EdgeChecks` is put on every root field with arguments when the schema is built: a
mutation answers its payload with `userErrors` (`INVALID_INPUT`, the field's path as the
domain names it: `variants[0].sku`), a query or subscription a GraphQL error with that code.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.unset import UnsetType
from strawberry.utils.str_converters import to_camel_case

from domain.errors import InvalidInput

DEFAULT_STRING_CAP = 1_000
STRING_CAPS: Mapping[str, int] = {
    "sku": 64, "skus": 64, "code": 64, "name": 100, "barcode": 14,
    "currencyCode": 3, "currency": 3, "fromCurrency": 3, "toCurrency": 3,
    "title": 255, "handle": 255, "brand": 100, "tag": 64, "tags": 64,
    "url": 2_048, "altText": 512, "descriptionHtml": 65_536,
    "reference": 200, "idempotencyKey": 200, "cartId": 100, "orderNumber": 100,
    "carrier": 100, "trackingNumber": 200, "email": 254, "phone": 100, "customer": 300,
    "kind": 32, "amount": 40, "rate": 40, "markupPercent": 40, "minMarginPercent": 40,
    "charmEnding": 40, "value": 10_000, "note": 2_000, "titleTemplate": 1_000,
    "after": 500, "search": 255,
    "csv": 1_000_000,  # importStock: 10,000 rows of a stock file
}  # fmt: skip
ID_CAP = 200  # global ids and uuids: `id`, `ids`, any name ending in `Id` or `Ids`
DEFAULT_LIST_CAP = 1_000
LIST_CAPS: Mapping[str, int] = {"channelIds": 100, "statuses": 50, "skus": 1_000, "ids": 100}
JSON_MAX_DEPTH = 8
JSON_MAX_NODES = 1_000
JSON_KEY_CAP = 100

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def string_cap(name: str) -> int:
    if name in ("id", "ids") or name.endswith(("Id", "Ids")):
        return ID_CAP
    return STRING_CAPS.get(name, DEFAULT_STRING_CAP)


def list_cap(name: str) -> int:
    return LIST_CAPS.get(name, DEFAULT_LIST_CAP)


def _string_error(value: str, name: str, path: str) -> InvalidInput | None:
    cap = string_cap(name)
    if len(value) > cap:
        return InvalidInput(f"at most {cap} characters", field=path)
    found = FORBIDDEN_CHARACTERS.search(value)
    if found is not None:
        char = found.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        return InvalidInput(f"{what} (U+{ord(char):04X}) is not allowed", field=path)
    return None


class _Walk:
    """Collects the errors of one argument value, walked by its Python shape."""

    def __init__(self) -> None:
        self.errors: list[InvalidInput] = []

    def value(self, value: Any, name: str, path: str) -> None:
        if value is None or isinstance(value, bool | int | float | Enum | UnsetType):
            return
        if isinstance(value, str):
            error = _string_error(value, name, path)
            if error is not None:
                self.errors.append(error)
        elif isinstance(value, list | tuple):
            self.items(value, name, path)
        elif has_object_definition(value):
            self.input(value, path)
        elif isinstance(value, dict):
            self.json(value, path)

    def items(self, values: list[Any] | tuple[Any, ...], name: str, path: str) -> None:
        cap = list_cap(name)
        if len(values) > cap:
            self.errors.append(InvalidInput(f"at most {cap} items", field=path))
            return
        for i, item in enumerate(values):
            self.value(item, name, f"{path}[{i}]")

    def input(self, value: Any, path: str) -> None:
        definition: StrawberryObjectDefinition = value.__strawberry_definition__
        for field, graphql_name in _input_fields(definition):
            inner = f"{path}.{graphql_name}" if path else graphql_name
            self.value(getattr(value, field.python_name, None), graphql_name, inner)

    def json(self, value: Any, path: str) -> None:
        nodes = 0
        stack: list[tuple[Any, str, int]] = [(value, path, 0)]
        while stack:
            item, where, depth = stack.pop()
            nodes += 1
            if nodes > JSON_MAX_NODES or depth > JSON_MAX_DEPTH:
                self.errors.append(
                    InvalidInput(
                        f"a JSON value of at most {JSON_MAX_NODES} values, {JSON_MAX_DEPTH} deep",
                        field=path,
                    )
                )
                return
            if isinstance(item, str):
                error = _string_error(item, "", where)
                if error is not None:
                    self.errors.append(error)
            elif isinstance(item, dict):
                for key, inner in item.items():
                    error = _string_error(str(key), "", where)
                    if error is None and len(str(key)) > JSON_KEY_CAP:
                        error = InvalidInput(
                            f"keys of at most {JSON_KEY_CAP} characters", field=where
                        )
                    if error is not None:
                        self.errors.append(error)
                        return
                    stack.append((inner, f"{where}.{key}", depth + 1))
            elif isinstance(item, list):
                stack.extend((inner, f"{where}[{i}]", depth + 1) for i, inner in enumerate(item))


_FIELDS: dict[int, list[tuple[Any, str]]] = {}


def _input_fields(definition: StrawberryObjectDefinition) -> list[tuple[Any, str]]:
    known = _FIELDS.get(id(definition))
    if known is None:
        known = _FIELDS[id(definition)] = [
            (f, f.graphql_name or to_camel_case(f.python_name)) for f in definition.fields
        ]
    return known


def argument_errors(arguments: Mapping[str, Any], names: Mapping[str, str]) -> list[InvalidInput]:
    """What is wrong with a field's arguments (by Python name; `names` gives their GraphQL
    names). Inside `input`, paths start at its fields, as the domain names them."""
    walk = _Walk()
    for python_name, value in arguments.items():
        name = names.get(python_name, python_name)
        walk.value(value, name, "" if name == "input" else name)
    return walk.errors


def _payload_of(field: StrawberryField) -> Callable[..., Any] | None:
    """The field's payload class when it answers `userErrors`, else None."""
    kind = field.type
    if not has_object_definition(kind):
        return None
    definition: StrawberryObjectDefinition = kind.__strawberry_definition__
    if any(f.python_name == "user_errors" for f in definition.fields):
        return kind
    return None


class EdgeChecks(FieldExtension):
    """Refuses a root field's arguments that `argument_errors` finds wrong."""

    def apply(self, field: StrawberryField) -> None:
        self._names = {
            a.python_name: a.graphql_name or to_camel_case(a.python_name) for a in field.arguments
        }
        self._field = field

    def _refuse(self, errors: list[InvalidInput]) -> Any:
        from api.schema.errors import UserError

        payload = _payload_of(self._field)
        if payload is not None:
            return payload(user_errors=[UserError.from_domain(e) for e in errors])
        first = errors[0]
        raise GraphQLError(
            first.message, extensions={"code": first.code.value, "field": first.field}
        )

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        errors = argument_errors(kwargs, self._names)
        if errors:
            return self._refuse(errors)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        errors = argument_errors(kwargs, self._names)
        if errors:
            return self._refuse(errors)
        result = next_(source, info, **kwargs)
        # A subscription's resolver gives its stream itself, not an awaitable.
        return await result if inspect.isawaitable(result) else result


def check_every_root_field(roots: Iterable[type]) -> None:
    """Put `EdgeChecks` on every field with arguments of the root types (once)."""
    for root in roots:
        definition: StrawberryObjectDefinition = root.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            if field.arguments and not any(isinstance(e, EdgeChecks) for e in field.extensions):
                field.extensions.append(EdgeChecks())
