"""Each GraphQL query's and mutation's latency, by operation, for `/metrics`.

An operation is named by its first root field (`reserveStock`, `products`): the schema
bounds those names, where a client's own operation names are unbounded. Operations that did
not parse or validate are `invalid`; subscriptions, which last as long as their socket, are
counted open by the bus instead (`nexo_subscriptions_open`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from adapters.metrics import GRAPHQL_SECONDS

INVALID = "invalid"


def root_field(run: ExecutionContext) -> str:
    """The first root field the operation asks for, or `invalid`."""
    document = run.graphql_document
    if document is None or run.pre_execution_errors:
        return INVALID
    name = run.operation_name
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value
    return INVALID


class TimeOperations(SchemaExtension):
    """Outermost extension: times an operation from parsing to its result."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        run = self.execution_context
        try:
            kind = run.operation_type
        except Exception:  # not parsed, or no operation of the name asked for
            kind = None
        if kind is OperationType.SUBSCRIPTION:
            return
        label = kind.value if kind is not None else INVALID
        GRAPHQL_SECONDS.labels(label, root_field(run)).observe(time.perf_counter() - started)
