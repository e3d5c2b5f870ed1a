"""The edge's steps around every GraphQL operation, run by one schema extension.

Strawberry builds, per request, a context manager for each hook of each extension (it looks
the hook up, wraps it with `contextlib`, and enters it through an exit stack per stage):
with the six the edge had, that was about 8% of the API process's CPU on the checkout
benchmark, most of it for hooks that do a line of work. The steps keep their own modules
and run here in the order they ran as six extensions:

- the operation's time, from before parsing to its answer, under its root field, or
  `invalid` when it did not parse or validate (`api/operation_metrics.py`; an operation
  whose resolver refused was counted `invalid` before: Strawberry keeps execution's errors
  where validation's are);
- the parser's token cap, and the cost rules (`api/schema/cost.py`) with, where
  introspection is off, the rule refusing it, added to the validation;
- parsing through a process-wide cache by the query's text;
- validation cached by the query's text (`api/schema/validation_cache.py`);
- the key's rate limit, charged before the operation runs (`api/rate_limits.py`);
- unexpected errors masked in every answer, subscription events included: an exception's
  text never reaches a client; GraphQL's own errors (syntax, validation, permissions) do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from api.operation_metrics import observe
from api.rate_limits import admit
from api.schema.cost import LIMIT_RULES
from api.schema.validation_cache import validate_cached

MAX_TOKENS = 4000
MASKED = "Unexpected error."

_parse = functools.lru_cache(maxsize=512)(parse)


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep GraphQL's own errors (syntax, validation, permissions)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _masked(error: GraphQLError) -> GraphQLError:
    if not should_mask(error):
        return error
    return GraphQLError(
        MASKED,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
    )


def _mask(result: Any) -> None:
    """Mask a result's unexpected errors, and those of its incremental parts if it has any."""
    if result is None:
        return
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [_masked(error) for error in errors]
    for part in (
        getattr(result, "initial_result", None),
        *(getattr(result, "incremental", None) or ()),
        *(getattr(result, "completed", None) or ()),
    ):
        if part is not None:
            _mask(part)


class EdgeOperations(SchemaExtension):
    """Pass it as a factory (one per request): `lambda: EdgeOperations(introspection=…)`."""

    def __init__(self, *, introspection: bool):
        super().__init__()
        refused = () if introspection else (NoSchemaIntrospectionCustomRule,)
        self._rules = (*LIMIT_RULES, *refused)
        self._hide_suggestions = not introspection
        self._streamed = False
        self._valid = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        run = self.execution_context
        run.parse_options["max_tokens"] = MAX_TOKENS
        run.validation_rules = (*run.validation_rules, *self._rules)
        yield
        if not self._streamed:  # a streamed operation's answers were masked one by one
            _mask(run.result)
        observe(run, started, valid=self._valid)

    def on_parse(self) -> Iterator[None]:
        run = self.execution_context
        if run.query is not None:  # else a document came parsed
            run.graphql_document = _parse(run.query, **run.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        run = self.execution_context
        validate_cached(run, hide_suggestions=self._hide_suggestions)
        self._valid = not run.pre_execution_errors
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        await admit(self.execution_context)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        _mask(result)
        yield
