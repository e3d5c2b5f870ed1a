"""Validation results cached by the query's text, not by its parsed document.

Strawberry's `ValidationCache` extension keys its LRU by the parsed document, and graphql-core's
syntax nodes are frozen dataclasses whose hash walks the whole tree: every request hashed
its document again (on `reserveStock`, about 160 of the GraphQL layer's ~1,500 Python calls
per request). A query's text determines its document, so it keys the same results.

With `hide_suggestions` (production, introspection off), errors say no "Did you mean…":
graphql-core's own option, passed to its `validate` with the rules Strawberry's
`validate_document` adds to every validation.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.schema.schema import validate_document
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.execution import ExecutionContext

Key = tuple[Any, str, tuple[Any, ...], bool]


class _Results:
    """A bounded LRU of validation errors by (schema, query text, rules)."""

    def __init__(self, maxsize: int):
        self._maxsize = maxsize
        self._results: OrderedDict[Key, list[GraphQLError]] = OrderedDict()

    def get(self, key: Key) -> list[GraphQLError] | None:
        found = self._results.get(key)
        if found is not None:
            self._results.move_to_end(key)
        return found

    def put(self, key: Key, errors: list[GraphQLError]) -> None:
        self._results[key] = errors
        if len(self._results) > self._maxsize:
            self._results.popitem(last=False)


# One per process: the key names the schema, so every schema of the process shares it.
_RESULTS = _Results(512)


def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    *,
    hide_suggestions: bool,
) -> list[GraphQLError]:
    if not hide_suggestions:
        return validate_document(schema, document, rules)
    every = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, every, hide_suggestions=True)


def validate_cached(context: ExecutionContext, *, hide_suggestions: bool) -> None:
    """Validate the operation's document, or take the errors its query's text had, into
    `context.pre_execution_errors` (the place Strawberry's validation step fills)."""
    schema = context.schema._schema
    document = context.graphql_document
    assert document is not None  # parsed before it is validated
    rules = context.validation_rules
    if context.query is None:
        context.pre_execution_errors = _validate(
            schema, document, rules, hide_suggestions=hide_suggestions
        )
        return
    key = (schema, context.query, rules, hide_suggestions)
    errors = _RESULTS.get(key)
    if errors is None:
        errors = _validate(schema, document, rules, hide_suggestions=hide_suggestions)
        _RESULTS.put(key, errors)
    context.pre_execution_errors = errors
