"""Calculated query cost and the leaky bucket, as the Admin API rate-limits GraphQL.

The requested cost is computed from the document before it runs; the actual cost after, from what
was returned; the bucket is charged the requested cost up front and refunded the difference.
The simplified formula (Shopify publishes the same rules, without every field's override):

- scalars, enums and `__` meta fields cost 0; an object (or interface/union) costs 1 plus its
  selection (for an interface, the dearest of the types it selects); a plain list of objects
  costs that per element: `first` or `ids` elements when requesting, those returned when
  settling, one when the list takes no such argument;
- a connection costs 2 + size x (cost of one node), where size is `first`/`last` when
  requesting and the number of nodes returned when settling; `edges`, `cursor` and `pageInfo`
  are part of the 2;
- a mutation field costs 10, its payload objects are free but connections inside it count as
  above; `productSet` adds the input complexity its SDL documents (0.2 per variant, 0.4 per
  metafield, 1.9 per file), rounded up;
- one query may not request more than 1000.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values

MUTATION_COST = 10
MAX_QUERY_COST = 1000
CONNECTION_COST = 2
INPUT_COSTS = {"productSet": {"variants": 0.2, "metafields": 0.4, "files": 1.9}}


class LeakyBucket:
    """Points drain as calls are made and flow back at `restore_rate` per second."""

    def __init__(self, size: float, restore_rate: float, clock: Callable[[], float]) -> None:
        self.size, self.restore_rate, self._clock = size, restore_rate, clock
        self._available, self._at = size, clock()

    @property
    def available(self) -> float:
        now = self._clock()
        self._available = min(self.size, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return self._available

    def take(self, cost: float) -> bool:
        if cost > self.available:
            return False
        self._available -= cost
        return True

    def refund(self, points: float) -> None:
        self._available = min(self.size, self.available + points)

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.size),
            "currentlyAvailable": float(math.floor(self.available)),
            "restoreRate": float(self.restore_rate),
        }


class QueryCost:
    """Walks one operation; with `data`, counts what was returned instead of what was asked."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Any,
    ) -> None:
        # `variables` as graphql-core coerced them (its VariableValues), for argument values.
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def of(self, operation: OperationDefinitionNode, data: dict[str, Any] | None = None) -> int:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        mutation = operation.operation == OperationType.MUTATION
        total = 0.0
        for node in self._fields(root, operation.selection_set):
            field = root.fields.get(node.name.value)
            if field is None:
                continue
            value = _value(data, node)
            if data is not None and value is None and not mutation:
                continue
            if mutation:
                total += MUTATION_COST + self._input_cost(node, field)
                total += self._selection(
                    field, node, value, payload=True, measured=data is not None
                )
            else:
                total += self._field(field, node, value, measured=data is not None)
        return math.ceil(total)

    def _field(
        self,
        field: GraphQLField,
        node: FieldNode,
        value: Any,
        *,
        measured: bool,
        payload: bool = False,
    ) -> float:
        named = get_named_type(field.type)
        if is_leaf_type(named) or node.name.value.startswith("__"):
            return 0.0
        if measured and value is None:
            return 0.0
        if _is_connection(named):
            return self._connection(named, field, node, value, measured=measured)
        own = 0.0 if payload else 1.0
        if is_list_type(get_nullable_type(field.type)):
            # A list of objects costs per element: as many as `first` or `ids` ask for, or as
            # many as came back.
            if measured:
                return sum(
                    own + self._selection(field, node, one, payload=payload, measured=True)
                    for one in value
                    if one is not None
                )
            each = own + self._selection(field, node, None, payload=payload, measured=False)
            return self._list_size(field, node) * each
        return own + self._selection(field, node, value, payload=payload, measured=measured)

    def _selection(
        self, field: GraphQLField, node: FieldNode, value: Any, *, payload: bool, measured: bool
    ) -> float:
        named = get_named_type(field.type)
        if node.selection_set is None or is_leaf_type(named):
            return 0.0
        return self._set_cost(named, node.selection_set, value, payload=payload, measured=measured)

    def _set_cost(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        value: Any,
        *,
        payload: bool,
        measured: bool,
    ) -> float:
        if is_abstract_type(parent):
            # Shopify charges the most expensive of the possible types' selections; only the
            # types the selection names can cost more than the interface's own fields.
            named = self._conditions(selection_set)
            kinds = [
                parent,
                *(k for k in self.schema.get_possible_types(parent) if k.name in named),
            ]
            return max(
                self._concrete_cost(kind, selection_set, value, payload=payload, measured=measured)
                for kind in kinds
            )
        return self._concrete_cost(parent, selection_set, value, payload=payload, measured=measured)

    def _concrete_cost(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        value: Any,
        *,
        payload: bool,
        measured: bool,
    ) -> float:
        total = 0.0
        for node in self._fields(parent, selection_set):
            field = parent.fields.get(node.name.value)
            if field is not None:
                total += self._field(
                    field, node, _value(value, node), measured=measured, payload=payload
                )
        return total

    def _connection(
        self, named: Any, field: GraphQLField, node: FieldNode, value: Any, *, measured: bool
    ) -> float:
        edge_type = get_named_type(named.fields["edges"].type)
        node_type = get_named_type(edge_type.fields["node"].type)
        # (selection on one node, key of the list in the response, key of the node in an edge)
        per_node: list[tuple[SelectionSetNode, str, str | None]] = []
        for child in self._fields(named, node.selection_set) if node.selection_set else []:
            if child.name.value == "nodes" and child.selection_set:
                per_node.append((child.selection_set, _key(child), None))
            if child.name.value == "edges" and child.selection_set:
                for inner in self._fields(edge_type, child.selection_set):
                    if inner.name.value == "node" and inner.selection_set:
                        per_node.append((inner.selection_set, _key(child), _key(inner)))
        if not measured:
            each = sum(
                1.0 + self._set_cost(node_type, selection, None, payload=False, measured=False)
                for selection, _, _ in per_node
            )
            return CONNECTION_COST + self._size(field, node) * each
        total = float(CONNECTION_COST)
        for selection, list_key, node_key in per_node:
            for entry in (value or {}).get(list_key) or []:
                item = entry.get(node_key) if node_key and isinstance(entry, dict) else entry
                if item is not None:
                    total += 1.0 + self._set_cost(
                        node_type, selection, item, payload=False, measured=True
                    )
        return total

    def _list_size(self, field: GraphQLField, node: FieldNode) -> int:
        args = self._arguments(field, node)
        if args.get("first") is not None:
            return int(args["first"])
        if isinstance(args.get("ids"), list):
            return len(args["ids"])
        return 1

    def _size(self, field: GraphQLField, node: FieldNode) -> int:
        args = self._arguments(field, node)
        return int(args.get("first") or args.get("last") or 0)

    def _arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field, node, self.variables)
        except GraphQLError:
            return {}  # bad arguments fail in execution; here they cost nothing

    def _input_cost(self, node: FieldNode, field: GraphQLField) -> float:
        weights = INPUT_COSTS.get(node.name.value)
        if not weights:
            return 0.0
        data = self._arguments(field, node).get("input") or {}
        total = sum(len(data.get(key) or []) * weight for key, weight in weights.items())
        for variant in data.get("variants") or []:
            total += 0.6 * bool(variant.get("file")) + 0.4 * len(variant.get("metafields") or [])
        return float(math.ceil(total))

    def _fields(self, parent: Any, selection_set: SelectionSetNode) -> list[FieldNode]:
        """The field nodes selected on `parent`, fragments flattened when their type applies."""
        found: list[FieldNode] = []
        condition: str | None
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition.name.value, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                inner = selection.selection_set
            else:
                continue
            if condition is None or condition == parent.name or _implements(parent, condition):
                found.extend(self._fields(parent, inner))
        return found

    def _conditions(self, selection_set: SelectionSetNode) -> set[str]:
        names: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode) and selection.type_condition:
                names.add(selection.type_condition.name.value)
                names |= self._conditions(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    names.add(fragment.type_condition.name.value)
                    names |= self._conditions(fragment.selection_set)
        return names


def _implements(parent: Any, name: str) -> bool:
    return any(interface.name == name for interface in getattr(parent, "interfaces", ()))


def _is_connection(named: Any) -> bool:
    fields = getattr(named, "fields", None)
    return bool(named.name.endswith("Connection") and fields and "pageInfo" in fields)


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _value(data: Any, node: FieldNode) -> Any:
    return data.get(_key(node)) if isinstance(data, dict) else None
