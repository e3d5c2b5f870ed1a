"""The GraphQL schema, composed from one module per business area."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.tools import merge_types

from api.schema.access import AccessMutation, AccessQuery, AccessSubscription
from api.schema.catalog.channel_settings import ChannelSettingsMutation
from api.schema.catalog.mutations import CatalogMutation
from api.schema.catalog.queries import CatalogQuery
from api.schema.channels import ChannelsMutation, ChannelsQuery
from api.schema.inventory.mutations import InventoryMutation
from api.schema.inventory.queries import InventoryQuery
from api.schema.inventory.subscriptions import InventorySubscription
from api.schema.orders.mutations import OrdersMutation
from api.schema.orders.queries import OrdersQuery
from api.schema.orders.routing import OrderRoutingMutation
from api.schema.orders.subscriptions import OrdersSubscription
from api.schema.plain_inputs import build_plain_inputs
from api.schema.storefront import StorefrontMutation, StorefrontQuery, StorefrontSubscription
from api.schema.sync import SyncMutation, SyncQuery, SyncSubscription
from api.schema.sync_inbound import SyncInboundMutation, SyncInboundQuery
from api.schema.validation_cache import QueryValidationCache

Query = merge_types(
    "Query",
    (
        AccessQuery,
        InventoryQuery,
        ChannelsQuery,
        CatalogQuery,
        SyncQuery,
        StorefrontQuery,
        SyncInboundQuery,
        OrdersQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccessMutation,
        InventoryMutation,
        ChannelsMutation,
        CatalogMutation,
        ChannelSettingsMutation,
        SyncMutation,
        StorefrontMutation,
        SyncInboundMutation,
        OrdersMutation,
        OrderRoutingMutation,
    ),
)
Subscription = merge_types(
    "Subscription",
    (
        AccessSubscription,
        InventorySubscription,
        SyncSubscription,
        StorefrontSubscription,
        OrdersSubscription,
    ),
)

MAX_TOKENS = 4000


class MaskUnexpectedErrors(MaskErrors):
    """MaskErrors without its per-result `isinstance` against a runtime Protocol.

    That check is slow and runs for every event of every subscription; a plain attribute
    read does the same job.
    """

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep GraphQL's own errors (syntax, validation, permissions)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=512),
        lambda: QueryValidationCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskUnexpectedErrors(should_mask_error=should_mask),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    build_plain_inputs(
        concrete.definition for concrete in schema.schema_converter.type_map.values()
    )
    return schema
