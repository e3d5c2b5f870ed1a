"""Input types built straight from GraphQL's value, by a builder made once per type.

For every field of every input, on every request, Strawberry's generic conversion resolves
the field's type, walks its wrappers and asks which kind of type it is: on `placeOrder`
(an input with a nested input, a list of inputs with a nested input each) that was about a
tenth of the API process's CPU. graphql-core has already parsed and validated the value,
so a scalar or enum field is taken as it comes and only the structure has to be built.
Each input type gets a builder, through Strawberry's documented `from_input` hook of the
type's definition, that knows its fields' conversions from the schema's build: the value
as it comes (scalars, enums), a copied list, a list of converted items, a nested input
(by its own builder). A field of any other kind (`Maybe`, a global id, whatever comes
next) keeps Strawberry's own conversion, field by field, so every input is built exactly
as Strawberry builds it (tests/unit/test_direct_inputs.py compares them, type by type).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import InputContext, convert_argument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

# One field's conversion: its value, the call's context, the value's path in the arguments.
Convert = Callable[[Any, InputContext, tuple[str | int, ...]], Any]
Registry = Mapping[object, Any]


class DirectBuilder:
    """`from_input` of one input type: its fields by GraphQL name, each converted as the
    schema's build decided."""

    def __init__(self, definition: StrawberryObjectDefinition):
        self.definition = definition
        # As Strawberry does: a field without a default is None unless given.
        self._nulls = {
            f.python_name: None
            for f in definition.fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        # (GraphQL name, Python name, conversion, whether a null goes to the conversion too)
        self._fields: list[tuple[str, str, Convert | None, bool]] = []

    def prepare(self, registry: Registry, config: StrawberryConfig) -> None:
        definition = self.definition
        self._fields = []
        for field in definition.fields:
            convert = _converter(field.resolve_type(type_definition=definition), registry)
            name = config.name_converter.from_field(field)
            whole = isinstance(convert, _StrawberryConverts)
            self._fields.append((name, field.python_name, convert, whole))

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        return self.build(value, context, context.path)

    def build(
        self, value: Mapping[str, Any], context: InputContext, path: tuple[str | int, ...]
    ) -> Any:
        fields = dict(self._nulls)
        for graphql_name, python_name, convert, whole in self._fields:
            if graphql_name in value:
                given = value[graphql_name]
                if convert is None or (not whole and (given is None or given is UNSET)):
                    fields[python_name] = given
                else:
                    fields[python_name] = convert(given, context, (*path, graphql_name))
        return self.definition.origin(**fields)


def _converter(kind: Any, registry: Registry) -> Convert | None:
    """How a value of `kind` is converted; None when it is taken as it comes. Only
    Strawberry's own conversion is given None or UNSET (a `Maybe` makes something of a
    null); the others are not, as Strawberry takes those as they come at every level."""
    if isinstance(kind, StrawberryMaybe) or kind is GlobalID:
        return _StrawberryConverts(kind)
    if isinstance(kind, StrawberryOptional):
        return _converter(kind.of_type, registry)
    if isinstance(kind, LazyType):
        return _converter(kind.resolve_type(), registry)
    if (
        is_scalar(kind, registry)
        or isinstance(kind, StrawberryEnumDefinition)
        or has_enum_definition(kind)
    ):
        return None
    if isinstance(kind, StrawberryList):
        return _list_of(_converter(kind.of_type, registry))
    if has_object_definition(kind):
        return _input_of(kind)
    return _StrawberryConverts(kind)


def _list_of(item: Convert | None) -> Convert:
    if item is None:
        # Copied: graphql-core gives one default list to every request that omits it.
        return lambda value, context, path: list(value)

    whole = isinstance(item, _StrawberryConverts)

    def convert(value: Any, context: InputContext, path: tuple[str | int, ...]) -> Any:
        return [
            x if not whole and (x is None or x is UNSET) else item(x, context, (*path, index))
            for index, x in enumerate(value)
        ]

    return convert


def _input_of(kind: type) -> Convert:
    definition: StrawberryObjectDefinition = kind.__strawberry_definition__  # type: ignore[attr-defined]

    def convert(value: Any, context: InputContext, path: tuple[str | int, ...]) -> Any:
        builder = definition.from_input
        if isinstance(builder, DirectBuilder):
            return builder.build(value, context, path)
        if builder is not None:
            place = InputContext(context.info, context.config, context.scalar_registry, path)
            return builder(kind, value, place)
        return _StrawberryConverts(kind)(value, context, path)

    return convert


class _StrawberryConverts:
    """Strawberry's own conversion of one kind of value."""

    def __init__(self, kind: Any):
        self._kind = kind

    def __call__(self, value: Any, context: InputContext, path: tuple[str | int, ...]) -> Any:
        return convert_argument(
            value, self._kind, context.scalar_registry, context.config, context.info, path=path
        )


def build_direct_inputs(
    definitions: Iterable[object], registry: Registry, config: StrawberryConfig
) -> list[str]:
    """Give each input type among a schema's type definitions that has no builder of its
    own the direct builder; the names of the types given it."""
    builders = []
    for definition in definitions:
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        if definition.from_input is not None:
            continue
        builder = DirectBuilder(definition)
        definition.from_input = builder
        builders.append(builder)
    for builder in builders:  # once every type has its builder: nested inputs use theirs
        builder.prepare(registry, config)
    return [builder.definition.name for builder in builders]
