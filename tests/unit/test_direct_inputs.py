"""Inputs built by their direct builders equal what Strawberry's own conversion builds.

Every input type of the schema is converted both ways, with every field given (nested
inputs and lists of them included), with only the fields GraphQL requires, and with
explicit nulls; a Strawberry input of each kind the builder hands back to Strawberry
(`Maybe`, a global id) is converted both ways too.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry
from strawberry.relay import GlobalID
from strawberry.types.arguments import convert_argument
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

from api.schema import build_schema
from api.schema.direct_inputs import DirectBuilder, build_direct_inputs

SCHEMA = build_schema()
REGISTRY = SCHEMA.schema_converter.scalar_registry
SAMPLES: dict[object, Any] = {str: "text", int: 7, float: 2.5, bool: True, strawberry.ID: "id-1"}


def _inputs(schema: strawberry.Schema) -> list[StrawberryObjectDefinition]:
    found = []
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
            found.append(definition)
    return found


INPUTS = _inputs(SCHEMA)


def _sample(kind: Any, how: str, depth: int = 0) -> Any:
    """A value of `kind` as graphql-core hands it over."""
    if isinstance(kind, StrawberryOptional):
        return None if how == "nulls" else _sample(kind.of_type, how, depth)
    if isinstance(kind, StrawberryList):
        return [_sample(kind.of_type, how, depth + 1) for _ in range(2)]
    if isinstance(kind, StrawberryEnumDefinition):
        return next(iter(kind.wrapped_cls))
    if has_enum_definition(kind):
        return next(iter(kind))
    if has_object_definition(kind):
        return _value(kind.__strawberry_definition__, how, depth + 1)
    if kind is GlobalID:
        return "T3JkZXI6MQ=="  # Order:1
    # A custom scalar arrives parsed; its conversion is the identity either way.
    return SAMPLES.get(kind, {"parsed": "scalar"})


def _value(definition: StrawberryObjectDefinition, how: str, depth: int = 0) -> dict[str, Any]:
    converter = SCHEMA.config.name_converter
    value = {}
    for field in definition.fields:
        kind = field.resolve_type(type_definition=definition)
        optional = isinstance(kind, StrawberryOptional)
        if how == "required" and (optional or depth > 4):
            continue
        value[converter.from_field(field)] = _sample(kind, how, depth)
    return value


@contextmanager
def strawberry_alone(definitions: list[StrawberryObjectDefinition]) -> Iterator[None]:
    """Strawberry's own conversion: every builder taken off for the while."""
    builders = [d.from_input for d in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, builder in zip(definitions, builders, strict=True):
            definition.from_input = builder


def _both_ways(
    schema: strawberry.Schema, definition: StrawberryObjectDefinition, value: Any
) -> tuple[Any, Any]:
    registry, config = schema.schema_converter.scalar_registry, schema.config
    direct = convert_argument(value, definition.origin, registry, config)
    with strawberry_alone(_inputs(schema)):
        own = convert_argument(value, definition.origin, registry, config)
    return direct, own


def test_every_input_has_a_direct_builder() -> None:
    assert INPUTS
    assert all(isinstance(d.from_input, DirectBuilder) for d in INPUTS)
    names = {d.name for d in INPUTS}
    assert {"PlaceOrderInput", "CheckoutReserveInput", "ReserveStockInput"} <= names


@pytest.mark.parametrize("definition", INPUTS, ids=lambda d: d.name)
@pytest.mark.parametrize("how", ["everything", "required", "nulls"])
def test_an_input_is_built_as_strawberry_builds_it(
    definition: StrawberryObjectDefinition, how: str
) -> None:
    value = _value(definition, how)
    direct, own = _both_ways(SCHEMA, definition, value)
    assert type(direct) is definition.origin
    assert direct == own, value


def test_a_list_given_is_copied_not_shared() -> None:
    definition = next(d for d in INPUTS if d.name == "PlaceOrderInput")
    value = _value(definition, "everything")
    built = convert_argument(value, definition.origin, REGISTRY, SCHEMA.config)
    assert built.lines is not value["lines"]
    assert built.lines[0].sku == value["lines"][0]["sku"]


class Colour(enum.Enum):
    RED = "red"


@strawberry.input
class Leaf:
    name: str
    colour: strawberry.enum(Colour) | None = None  # type: ignore[valid-type]


@strawberry.input
class Odd:
    """Fields the builder hands back to Strawberry, beside ones it builds."""

    node: GlobalID
    maybe: strawberry.Maybe[str]
    maybe_null: strawberry.Maybe[str | None]
    leaves: list[Leaf]
    grid: list[list[int]] | None = None


@strawberry.type
class Query:
    @strawberry.field
    def odd(self, odd: Odd) -> str:
        return ""


def test_fields_of_other_kinds_keep_strawberrys_conversion() -> None:
    schema = strawberry.Schema(query=Query)
    converter = schema.schema_converter
    given = build_direct_inputs(
        (c.definition for c in converter.type_map.values()),
        converter.scalar_registry,
        schema.config,
    )
    assert set(given) == {"Odd", "Leaf"}
    definition: StrawberryObjectDefinition = Odd.__strawberry_definition__  # type: ignore[attr-defined]
    value = {
        "node": "T3JkZXI6MQ==",
        "maybe": "x",
        "maybeNull": None,
        "leaves": [{"name": "a", "colour": Colour.RED}, {"name": "b"}],
        "grid": [[1, 2], [3]],
    }
    direct, own = _both_ways(schema, definition, value)
    assert direct == own
    assert direct.node == GlobalID("Order", "1")
    assert direct.maybe is not None
    assert direct.maybe.value == "x"
    assert direct.maybe_null is not None
    assert direct.maybe_null.value is None
    assert direct.leaves[0] == Leaf(name="a", colour=Colour.RED)
    with pytest.raises(Exception, match="Value cannot represent a GlobalID"):
        convert_argument(
            {**value, "node": "garbage!"}, Odd, converter.scalar_registry, schema.config
        )
