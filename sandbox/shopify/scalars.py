"""How the Admin API's custom scalars read and print: Money and Decimal as decimal strings,
DateTime as UTC ISO 8601 to the second, UnsignedInt64 as a string of digits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    FloatValueNode,
    GraphQLSchema,
    IntValueNode,
    StringValueNode,
    ValueNode,
)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"Invalid decimal value: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"Invalid decimal value: {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"Invalid decimal value: {value!r}")
    return number


def _decimal_literal(node: ValueNode, _variables: Any = None) -> Decimal:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return _decimal(node.value)
    raise ValueError("Decimal values are strings or numbers")


def _money_out(value: Any) -> str:
    return f"{_decimal(value):.2f}"


def _decimal_out(value: Any) -> str:
    text = format(_decimal(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def _time_out(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _time_in(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"Invalid DateTime: {value!r}")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_literal(node: ValueNode, _variables: Any = None) -> datetime:
    if isinstance(node, StringValueNode):
        return _time_in(node.value)
    raise ValueError("DateTime values are strings")


def _uint_in(value: Any) -> int:
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValueError(f"Invalid UnsignedInt64: {value!r}")
    return int(value)


def _uint_literal(node: ValueNode, _variables: Any = None) -> int:
    if isinstance(node, StringValueNode | IntValueNode):
        return _uint_in(node.value)
    raise ValueError("UnsignedInt64 values are strings or integers")


def _override(scalar: Any, out: Any, value_in: Any, literal_in: Any) -> None:
    scalar.serialize, scalar.parse_value, scalar.parse_literal = out, value_in, literal_in
    # graphql-core 3.3 copies these into coerce_* attributes when the type is built.
    if hasattr(scalar, "coerce_output_value"):
        scalar.coerce_output_value, scalar.coerce_input_value = out, value_in
        scalar.coerce_input_literal = None


def bind_scalars(schema: GraphQLSchema) -> None:
    type_map = schema.type_map
    _override(type_map["Money"], _money_out, _decimal, _decimal_literal)
    _override(type_map["Decimal"], _decimal_out, _decimal, _decimal_literal)
    _override(type_map["DateTime"], _time_out, _time_in, _time_literal)
    _override(type_map["UnsignedInt64"], str, _uint_in, _uint_literal)
