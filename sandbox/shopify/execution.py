"""One Admin API GraphQL call, from JSON body to JSON answer, as Shopify answers it.

Errors in the document (syntax, validation against the real schema, variables) come back with
HTTP 200 and `errors`, nothing run. Then the requested cost is checked against the single-query
limit and the bucket: THROTTLED when it does not fit, nothing run. Otherwise the operation runs
and the bucket is refunded what was asked but not returned. Every answer carries
`extensions.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from sandbox.shopify.context import RequestContext
from sandbox.shopify.cost import MAX_QUERY_COST, LeakyBucket, QueryCost
from sandbox.shopify.objects import default_resolver, type_resolver
from sandbox.shopify.schema import admin_schema, idempotent_fields
from sandbox.shopify.store import Store

THROTTLED = {
    "message": "Throttled",
    "extensions": {
        "code": "THROTTLED",
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    },
}


@dataclass
class Answer:
    """The HTTP answer and what the call log keeps of it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    operation: str | None = None
    kind: str | None = None
    root_fields: list[str] = field(default_factory=list)
    requested_cost: int | None = None
    actual_cost: int | None = None
    throttled: bool = False


@lru_cache(maxsize=512)
def _checked(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    # Parsing and validating the same document against a schema this size is the slow part.
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(admin_schema(), document))


class GraphQLEndpoint:
    def __init__(self, store: Store, bucket: LeakyBucket) -> None:
        self.store, self.bucket = store, bucket

    def cost_extension(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }

    def _errors(self, errors: list[Any], requested: int = 0) -> Answer:
        body = {"errors": errors, "extensions": self.cost_extension(requested, 0)}
        return Answer(200, body, requested_cost=requested, actual_cost=0)

    def throttled(self, requested: int, status: int = 200) -> Answer:
        body = {"errors": [THROTTLED], "extensions": self.cost_extension(requested, None)}
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Answer(status, body, headers, requested_cost=requested, throttled=True)

    def run(self, payload: dict[str, Any], *, force_throttle: int | None = None) -> Answer:
        query, variables = payload.get("query"), payload.get("variables") or {}
        if not isinstance(variables, dict):
            return self._errors([{"message": "Variables must be a JSON object"}])
        document, problems = _checked(query)
        if document is None or problems:
            return self._errors([error.formatted for error in problems])
        operation, fragments, error = _operation(document, payload.get("operationName"))
        if operation is None:
            return self._errors([{"message": error}])
        schema = admin_schema()
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._errors([e.formatted for e in coerced])
        roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        refused = _idempotent_misuse(operation, roots)
        if refused:
            return self._errors([{"message": refused}])
        costing = QueryCost(schema, fragments, coerced)
        requested = costing.of(operation)
        answer = self._settle(document, operation, variables, costing, requested, force_throttle)
        answer.operation = operation.name.value if operation.name else None
        answer.kind = operation.operation.value
        answer.root_fields = [node.name.value for node in roots]
        return answer

    def _settle(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        costing: QueryCost,
        requested: int,
        force_throttle: int | None,
    ) -> Answer:
        if requested > MAX_QUERY_COST:
            message = (
                f"Query cost is {requested}, which exceeds the single query max cost limit "
                f"({MAX_QUERY_COST})."
            )
            extensions = {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}
            return self._errors([{"message": message, "extensions": extensions}], requested)
        if force_throttle is not None:
            return self.throttled(requested, force_throttle)
        if not self.bucket.take(requested):
            return self.throttled(requested)
        context = RequestContext(self.store)
        result = execute(
            admin_schema(),
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation.name.value if operation.name else None,
            field_resolver=default_resolver,
            type_resolver=type_resolver,
        )
        # Every resolver is synchronous, so graphql-core answers at once, not with an awaitable.
        assert isinstance(result, ExecutionResult)
        actual = costing.of(operation, result.data or {})
        self.bucket.refund(max(0, requested - actual))
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        body["data"] = result.data
        body["extensions"] = self.cost_extension(requested, actual)
        if context.search:
            body["extensions"]["search"] = context.search
        return Answer(200, body, requested_cost=requested, actual_cost=actual)


def _operation(
    document: DocumentNode, name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode], str | None]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if name:
        chosen = [op for op in operations if op.name and op.name.value == name]
        if not chosen:
            return None, fragments, f'Operation name "{name}" not found in document.'
        return chosen[0], fragments, None
    if len(operations) != 1:
        return None, fragments, "An operation name is required when the document has several."
    return operations[0], fragments, None


def _idempotent_misuse(operation: OperationDefinitionNode, roots: list[FieldNode]) -> str | None:
    for node in roots:
        uses = any(d.name.value == "idempotent" for d in node.directives or ())
        supported = (
            operation.operation == OperationType.MUTATION and node.name.value in idempotent_fields()
        )
        if uses and not supported:
            return f"The @idempotent directive is not supported on the field '{node.name.value}'."
    return None
