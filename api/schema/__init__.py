"""The GraphQL schema, composed from one module per business area."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types

from api.schema.access import AccessMutation, AccessQuery, AccessSubscription
from api.schema.admin_audit import AdminAuditQuery, audit_admin_actions
from api.schema.catalog.channel_settings import ChannelSettingsMutation
from api.schema.catalog.mutations import CatalogMutation
from api.schema.catalog.queries import CatalogQuery
from api.schema.channels import ChannelsMutation, ChannelsQuery
from api.schema.customers.mutations import CustomersMutation
from api.schema.customers.queries import CustomersQuery
from api.schema.direct_inputs import build_direct_inputs
from api.schema.edge import check_every_root_field
from api.schema.ids import encode_output_ids
from api.schema.inventory.mutations import InventoryMutation
from api.schema.inventory.queries import InventoryQuery
from api.schema.inventory.subscriptions import InventorySubscription
from api.schema.operations import MAX_TOKENS as MAX_TOKENS
from api.schema.operations import EdgeOperations
from api.schema.orders.mutations import OrdersMutation
from api.schema.orders.picking import PickingMutation, PickingQuery
from api.schema.orders.queries import OrdersQuery
from api.schema.orders.routing import OrderRoutingMutation
from api.schema.orders.subscriptions import OrdersSubscription
from api.schema.partner_fence import fence_partners
from api.schema.partners import PartnersMutation, PartnersQuery
from api.schema.refetch import NodeQuery
from api.schema.reports import ReportsQuery, StockReportsQuery
from api.schema.stock_files import StockFilesMutation, StockFilesQuery
from api.schema.storefront import StorefrontMutation, StorefrontQuery, StorefrontSubscription
from api.schema.sync import SyncMutation, SyncQuery, SyncSubscription
from api.schema.sync_inbound import SyncInboundMutation, SyncInboundQuery

Query = merge_types(
    "Query",
    (
        AccessQuery,
        NodeQuery,
        AdminAuditQuery,
        InventoryQuery,
        ChannelsQuery,
        CatalogQuery,
        SyncQuery,
        StorefrontQuery,
        SyncInboundQuery,
        OrdersQuery,
        PickingQuery,
        CustomersQuery,
        ReportsQuery,
        StockReportsQuery,
        StockFilesQuery,
        PartnersQuery,
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
        PickingMutation,
        CustomersMutation,
        StockFilesMutation,
        PartnersMutation,
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


class SuggestionFreeExecution(StrawberryGraphQLCoreExecutionContext):
    """Execution whose errors (variables' values) never say "Did you mean…": with
    introspection off, suggestions would map the schema for whoever guesses names."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        # Variables are coerced here, before the executor exists.
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


@functools.cache  # immutable once built, and a build costs about 0.1 s: once per process
def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema; without `introspection` (production) errors carry no suggestions either.
    Every app of a process shares it (each request still gets its own extensions)."""
    hide_suggestions = not introspection
    extensions: list[Any] = [lambda: EdgeOperations(introspection=introspection)]
    check_every_root_field((Query, Mutation, Subscription))
    audit_admin_actions(Mutation)  # outermost: attempts refused are recorded too
    fence_partners((Query, Mutation, Subscription))  # outside all: a partner meets it first
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=SuggestionFreeExecution if hide_suggestions else None,
    )
    converter = schema.schema_converter
    build_direct_inputs(
        (concrete.definition for concrete in converter.type_map.values()),
        converter.scalar_registry,
        schema.config,
    )
    encode_output_ids(schema._schema)
    return schema
