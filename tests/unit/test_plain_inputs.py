"""Plain inputs built straight from GraphQL's value equal what Strawberry's conversion builds.

Every input type of the schema that was given the direct builder is converted both ways,
with every field given, with only the fields GraphQL requires, and with explicit nulls.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional

from api.schema import build_schema
from api.schema.plain_inputs import PLAIN_SCALARS

SCHEMA = build_schema()
SAMPLES: dict[object, Any] = {str: "text", int: 7, float: 2.5, bool: True, strawberry.ID: "id-1"}


def _inputs() -> list[StrawberryObjectDefinition]:
    found = []
    for concrete in SCHEMA.schema_converter.type_map.values():
        definition = concrete.definition
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
            found.append(definition)
    return found


PLAIN = [d for d in _inputs() if d.from_input is not None]


def _values(definition: StrawberryObjectDefinition) -> list[dict[str, Any]]:
    """Input values as graphql-core hands them over: all fields, required only, nulls."""
    converter = SCHEMA.config.name_converter
    everything: dict[str, Any] = {}
    required: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    for field in definition.fields:
        kind = field.resolve_type(type_definition=definition)
        name = converter.from_field(field)
        optional = isinstance(kind, StrawberryOptional)
        sample = SAMPLES[kind.of_type if optional else kind]
        everything[name] = sample
        if optional:
            nulls[name] = None
        else:
            required[name] = nulls[name] = sample
    return [everything, required, nulls]


def _strawberry_builds(definition: StrawberryObjectDefinition, value: dict[str, Any]) -> Any:
    builder = definition.from_input
    definition.from_input = None
    try:
        return convert_argument(
            value, definition.origin, SCHEMA.schema_converter.scalar_registry, SCHEMA.config
        )
    finally:
        definition.from_input = builder


def test_the_hot_inputs_are_plain_and_the_others_are_left_alone() -> None:
    names = {d.name for d in PLAIN}
    assert {"ReserveStockInput", "ReceiveStockInput", "AdjustStockInput"} <= names
    # Enums, lists and nested inputs keep Strawberry's conversion.
    assert "CreateLocationInput" not in names  # an enum (the location's kind)
    assert "ReserveStockLinesInput" not in names  # a list of inputs
    for definition in PLAIN:
        for field in definition.fields:
            kind = field.resolve_type(type_definition=definition)
            if isinstance(kind, StrawberryOptional):
                kind = kind.of_type
            assert kind in PLAIN_SCALARS


@pytest.mark.parametrize("definition", PLAIN, ids=lambda d: d.name)
def test_a_plain_input_is_built_as_strawberry_builds_it(
    definition: StrawberryObjectDefinition,
) -> None:
    for value in _values(definition):
        direct = convert_argument(
            value, definition.origin, SCHEMA.schema_converter.scalar_registry, SCHEMA.config
        )
        assert type(direct) is definition.origin
        assert direct == _strawberry_builds(definition, value), value
