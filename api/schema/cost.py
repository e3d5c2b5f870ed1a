"""Limits on what one request may ask for, checked while validating (before anything runs).

Validation results are cached by query text (`validation_cache.py`), so each rule here is
one class made once: a rule class made per request would miss the cache every time.

The cost of an operation: every field costs 1 (some are priced higher: `FIELD_COSTS`), and
what a list holds is paid for once per item it may hold: a connection by its page size (its
`first` argument; a variable counts as the largest page, `MAX_PAGE`, since validation runs
once per query text, before variables are known), any other list by `LIST_GUESS`. Fragments
count wherever they are spread; aliases count once each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from api.schema.pagination import MAX_PAGE

MAX_COST = 50_000  # a page of 100 products with variants, images, listings: ~27,000
MAX_ALIASES = 100  # one query asking after 50 SKUs by alias is ordinary
MAX_DEPTH = 10  # the schema's deepest path is 7 (it has no cycle)
LIST_GUESS = 10
MUTATION_COST = 10
FIELD_COSTS: Mapping[tuple[str, str], int] = {
    # Recomputes every stock level from the whole ledger.
    ("Query", "inventoryAudit"): 20_000,
    ("Query", "listingPreview"): 50,
    ("Query", "channelSyncStatus"): 20,
    ("Query", "channelAvailability"): 10,
    ("Query", "channelPrice"): 10,
    ("Query", "storefrontItems"): 100,
    ("Mutation", "upsertProducts"): 1_000,
}


def _unwrap(kind: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under a field's type, and whether a list wraps it."""
    is_list = False
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(kind, GraphQLList)
        kind = kind.of_type
    return kind, is_list


def _page(node: FieldNode, field_args: Mapping[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(0, int(argument.value.value))
            return MAX_PAGE  # a variable: known only when the request runs
    default = field_args["first"].default_value
    return default if isinstance(default, int) else MAX_PAGE


class _Costing:
    def __init__(self, context: ValidationContext):
        self._schema = context.schema
        self._fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }

    def selection(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType,
        visited: frozenset[str] = frozenset(),
    ) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, visited)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                total += self.selection(selection.selection_set, on or parent, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in visited:
                    continue  # unknown or cyclic: other rules report it
                on = self._schema.get_type(fragment.type_condition.name.value)
                total += self.selection(fragment.selection_set, on or parent, visited | {name})
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, visited: frozenset[str]) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 1
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 1  # unknown (reported by its own rule) or introspection
        weight = FIELD_COSTS.get((parent.name, node.name.value), 1)
        if parent.name == "Mutation":
            weight = max(weight, MUTATION_COST)
        kind, is_list = _unwrap(definition.type)
        if "first" in definition.args:
            times = _page(node, definition.args)
        elif is_list and not parent.name.endswith("Connection"):
            times = LIST_GUESS
        else:
            times = 1
        return weight + times * self.selection(node.selection_set, kind, visited)


class QueryCost(ValidationRule):
    """Refuses an operation whose cost is over `MAX_COST`."""

    def __init__(self, context: ValidationContext):
        super().__init__(context)
        costing = _Costing(context)
        for definition in context.document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            root = context.schema.get_root_type(definition.operation)
            if root is None:
                continue
            cost = costing.selection(definition.selection_set, root)
            if cost > MAX_COST:
                name = definition.name.value if definition.name else "anonymous"
                context.report_error(
                    GraphQLError(
                        f"'{name}' costs {cost}, over the limit of {MAX_COST}: "
                        "ask for smaller pages or fewer fields",
                        definition,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": MAX_COST},
                    )
                )


LIMIT_RULES = (
    aliases_rule(MAX_ALIASES),
    depth_rule(MAX_DEPTH, should_ignore=None),
    QueryCost,
)
