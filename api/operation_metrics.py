"""Each GraphQL query's and mutation's latency, by operation, for `/metrics`.

An operation is named by its first root field (`reserveStock`, `products`): the schema
bounds those names, where a client's own operation names are unbounded. Operations that did
not parse or validate are `invalid`; subscriptions, which last as long as their socket, are
counted open by the bus instead (`nexo_subscriptions_open`).
"""

from __future__ import annotations

import time

from graphql import FieldNode, OperationDefinitionNode
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from adapters.metrics import GRAPHQL_SECONDS, labelled

INVALID = "invalid"


def root_field(run: ExecutionContext, *, valid: bool) -> str:
    """The first root field the operation asks for, or `invalid`. Whether it was `valid`
    (parsed and validated) is the caller's to say: Strawberry keeps execution's errors in
    `pre_execution_errors` too, so an operation whose resolver refused looks invalid there."""
    document = run.graphql_document
    if document is None or not valid:
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


def observe(run: ExecutionContext, started: float, *, valid: bool) -> None:
    """Count a query's or mutation's time since `started` (perf_counter), once it answered;
    `valid`: it parsed and validated."""
    try:
        kind = run.operation_type
    except Exception:  # not parsed, or no operation of the name asked for
        kind = None
    if kind is OperationType.SUBSCRIPTION:
        return
    label = kind.value if kind is not None else INVALID
    labelled(GRAPHQL_SECONDS, label, root_field(run, valid=valid)).observe(
        time.perf_counter() - started
    )
