"""Input types whose fields are all plain scalars, built straight from GraphQL's value.

For every input field of every argument, Strawberry's generic conversion resolves the
field's type and walks its wrappers again, on every request: on `reserveStock`, the
hottest mutation, that was about a sixth of the GraphQL layer's CPU. For an input whose
fields are all built-in scalars (str, int, float, bool, ID, each possibly nullable),
conversion is the identity on each field, which graphql-core has already parsed and
validated: such an input is built from the value's fields directly, through Strawberry's
documented `from_input` hook of the type's definition. Any other input (enums, lists,
nested inputs, `Maybe`, custom scalars) keeps Strawberry's own conversion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from strawberry import ID
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
)

PLAIN_SCALARS: tuple[object, ...] = (str, int, float, bool, ID)


def _is_plain(definition: StrawberryObjectDefinition) -> bool:
    for field in definition.fields:
        kind: Any = field.resolve_type(type_definition=definition)
        if isinstance(kind, StrawberryMaybe):
            return False
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        if kind not in PLAIN_SCALARS:
            return False
    return True


class _PlainBuilder:
    """`from_input` for a plain input: its fields by GraphQL name, taken as they come."""

    def __init__(self, definition: StrawberryObjectDefinition):
        self._definition = definition
        self._names: list[tuple[str, str]] | None = None
        # As Strawberry does: a field without a default is None unless given.
        self._nulls = {
            f.python_name: None
            for f in definition.fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        names = self._names
        if names is None:
            converter = context.config.name_converter
            names = self._names = [
                (converter.from_field(f), f.python_name) for f in self._definition.fields
            ]
        fields = dict(self._nulls)
        for graphql_name, python_name in names:
            if graphql_name in value:
                fields[python_name] = value[graphql_name]
        return cls(**fields)


def build_plain_inputs(definitions: Iterable[object]) -> list[str]:
    """Give each plain input type among a schema's type definitions the direct builder;
    the names of the types given it."""
    given = []
    for definition in definitions:
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        if definition.from_input is not None or not _is_plain(definition):
            continue
        definition.from_input = _PlainBuilder(definition)
        given.append(definition.name)
    return given
