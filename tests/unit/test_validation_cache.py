"""Validation results cached by query text: reused for the same text, rules and schema only."""

from __future__ import annotations

from api.schema import build_schema

INTROSPECTION = "{ __schema { queryType { name } } }"
BAD = "{ noSuchField }"


async def test_the_same_text_under_other_rules_is_validated_under_those_rules() -> None:
    locked = build_schema(introspection=False)
    open_ = build_schema(introspection=True)
    for _ in range(2):  # the second round answers from the cache
        refused = await locked.execute(INTROSPECTION)
        allowed = await open_.execute(INTROSPECTION)
        assert refused.errors
        assert "introspection" in refused.errors[0].message.lower()
        assert allowed.errors is None
        assert allowed.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_an_invalid_query_is_refused_every_time_with_the_same_error() -> None:
    schema = build_schema(introspection=False)
    first = await schema.execute(BAD)
    again = await schema.execute(BAD)
    assert first.errors
    assert again.errors
    assert first.data is None
    assert [e.message for e in again.errors] == [e.message for e in first.errors]
    assert "noSuchField" in first.errors[0].message
