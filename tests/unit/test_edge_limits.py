"""The edge's limits, set by its one schema extension (`EdgeOperations`): the parser's token
cap and the cost rules hold on every schema, introspection is refused where it is off."""

from __future__ import annotations

import pytest

from api.schema import MAX_TOKENS, build_schema

TYPENAME = "{ __typename }"


@pytest.mark.parametrize("introspection", [True, False])
async def test_a_document_over_the_token_cap_is_refused_before_it_is_validated(
    introspection: bool,
) -> None:
    schema = build_schema(introspection=introspection)
    over = "{ " + " ".join(["__typename"] * MAX_TOKENS) + " }"

    refused = await schema.execute(over)
    allowed = await schema.execute(TYPENAME)

    assert refused.errors
    assert refused.data is None
    assert "token" in refused.errors[0].message.lower()
    assert allowed.errors is None
    assert allowed.data == {"__typename": "Query"}


@pytest.mark.parametrize("introspection", [True, False])
async def test_too_many_aliases_are_refused_on_every_schema(introspection: bool) -> None:
    schema = build_schema(introspection=introspection)
    aliased = "{ " + " ".join(f"a{n}: __typename" for n in range(1000)) + " }"

    refused = await schema.execute(aliased)

    assert refused.errors
    assert refused.data is None
