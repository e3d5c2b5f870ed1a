"""Global ids: every id the API answers is opaque and typed, `gid://nexo/<Type>/<key>`.

Types keep their domain key (a uuid, or a compound key) in their `id` fields;
`encode_output_ids` turns it into a global id on the way out, for every object type at
once, so no type spells the format. On the way in, `parse_id` is the one decoder: it
takes a global id or, for clients written before global ids, a raw uuid.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from graphql import (
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
)

from domain.errors import NotFound

PREFIX = "gid://nexo/"

# A type that shows another's entity names it by that entity's type.
ENTITY_OF: Mapping[str, str] = {"LocationRef": "Location", "LocationStockLevel": "StockLevel"}

# Output fields that name another entity, by field name: the entity's type.
REFERENCES: Mapping[str, str] = {
    "channelId": "Channel", "productId": "Product", "categoryId": "Category",
    "parentId": "Category", "locationId": "Location", "locationIds": "Location",
    "orderId": "Order", "winnerOrderId": "Order", "lineId": "OrderLine",
    "customerId": "Customer", "mergedInto": "Customer", "reservationId": "Reservation",
    "parcelId": "Parcel", "shipmentId": "Shipment", "requestId": "FulfilmentRequest",
    "orderIds": "Order", "lineIds": "OrderLine",
}  # fmt: skip


def global_id(type_name: str, key: object) -> str:
    return f"{PREFIX}{ENTITY_OF.get(type_name, type_name)}/{key}"


def compound_key(*parts: str) -> str:
    """A key of several parts, or of free text (a SKU), safe inside a global id."""
    return ":".join(quote(part, safe="") for part in parts)


def split_key(key: str) -> list[str]:
    return [unquote(part) for part in key.split(":")]


def decode(value: str, field: str) -> tuple[str | None, str]:
    """The type and key of a global id; a raw value is a key of no stated type."""
    text = str(value)
    if not text.startswith(PREFIX):
        return None, text
    type_name, slash, key = text[len(PREFIX) :].partition("/")
    if not (type_name and slash and key):
        raise NotFound(f"{value!r} is not a known id", field=field)
    return type_name, key


def _expected_type(field: str) -> str | None:
    """The entity a field path names (`lines[0].locationId` → Location), when known."""
    name = field.rsplit(".", 1)[-1].split("[", 1)[0]
    return REFERENCES.get(name)


def parse_id(value: str, field: str) -> uuid.UUID:
    """The uuid a client gave as `field`: a global id (of the entity the field names, when
    that is known) or a raw uuid."""
    given_type, key = decode(value, field)
    expected = _expected_type(field)
    if given_type is not None and expected is not None and given_type != expected:
        raise NotFound(f"{value!r} is not a {expected} id", field=field)
    try:
        return uuid.UUID(key)
    except ValueError:
        raise NotFound(f"{value!r} is not a known id", field=field) from None


def _encoding(resolve: Callable[..., Any], encode: Callable[[Any], Any]) -> Callable[..., Any]:
    def resolve_encoded(source: Any, info: Any, **arguments: Any) -> Any:
        value = resolve(source, info, **arguments)
        if inspect.isawaitable(value):
            return _awaited(value, encode)
        return None if value is None else encode(value)

    return resolve_encoded


async def _awaited(value: Any, encode: Callable[[Any], Any]) -> Any:
    found = await value
    return None if found is None else encode(found)


def _encoder(type_name: str, many: bool) -> Callable[[Any], Any]:
    if many:
        return lambda keys: [global_id(type_name, k) for k in keys]
    return lambda key: global_id(type_name, key)


def id_fields(schema: GraphQLSchema) -> list[tuple[GraphQLObjectType, str, str]]:
    """Every output field of type ID: (its object type, its name, the entity it names)."""
    found = []
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for name, field in named.fields.items():
            if get_named_type(field.type) is not GraphQLID:
                continue
            entity = named.name if name == "id" else REFERENCES.get(name)
            if entity is None:
                raise TypeError(f"{named.name}.{name} is an ID naming no known type")
            found.append((named, name, entity))
    return found


def encode_output_ids(schema: GraphQLSchema) -> None:
    """Make every ID the schema answers a global id (once, when the schema is built)."""
    for object_type, name, entity in id_fields(schema):
        field = object_type.fields[name]
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        many = isinstance(inner, GraphQLList)
        if not getattr(field.resolve, "encodes_ids", False):
            resolve = field.resolve or default_field_resolver
            field.resolve = _encoding(resolve, _encoder(entity, many))
            field.resolve.encodes_ids = True
