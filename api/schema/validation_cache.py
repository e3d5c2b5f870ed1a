"""Validation results cached by the query's text, not by its parsed document.

Strawberry's `ValidationCache` keys its LRU by the parsed document, and graphql-core's
syntax nodes are frozen dataclasses whose hash walks the whole tree: every request hashed
its document again (on `reserveStock`, about 160 of the GraphQL layer's ~1,500 Python calls
per request). A query's text determines its document, so it keys the same results.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

Key = tuple[Any, str, tuple[Any, ...]]


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


_CACHES: dict[int, _Results] = {}


class QueryValidationCache(SchemaExtension):
    """Like `ValidationCache` (pass it as a factory), keyed by the query's text."""

    def __init__(self, maxsize: int = 512):
        super().__init__()
        self._results = _CACHES.setdefault(maxsize, _Results(maxsize))

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        document = context.graphql_document
        assert document is not None  # parsed before it is validated
        if context.query is None:
            context.pre_execution_errors = validate_document(
                schema, document, context.validation_rules
            )
            yield
            return
        key = (schema, context.query, context.validation_rules)
        errors = self._results.get(key)
        if errors is None:
            errors = validate_document(schema, document, context.validation_rules)
            self._results.put(key, errors)
        context.pre_execution_errors = errors
        yield
