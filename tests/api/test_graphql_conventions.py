"""The conventions client caches rely on (Apollo, generated clients): every entity has an
`id: ID!`, ids are typed global ids, and any `Node` refetches by its id alone, under the
permissions of its own query."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from graphql import GraphQLID, GraphQLNonNull, GraphQLObjectType

from api.schema import build_schema
from api.schema.ids import parse_id
from tests.graphql import data, gql

# Object types that are not entities, so carry no id of their own.
PLUMBING = ("Query", "Mutation", "Subscription", "PageInfo", "UserError")
PLUMBING_SUFFIXES = ("Connection", "Edge", "Payload")
NOT_ENTITIES = {
    # A part of one owner, only ever read through it: a cache keeps it inside its owner.
    "Money", "Dimensions", "Image", "Attribute", "ProductOption", "OptionValue",
    "ListingItem", "ListingProblem", "ListingRule", "PriceRule", "Mapping",
    "ChannelCatalogConfig", "OrderCustomer", "OrderFee", "OrderTransition", "ShipmentLine",
    "ChannelQuantity", "CustomerHistory", "CustomerAuditEntry", "AvailabilityStep",
    "PriceStep", "ShippingZone", "FulfilmentRequestLine", "PartnerShipment", "LocationPartner",
    # A computed answer to one question, for its arguments and its moment: reports,
    # explanations, previews, audits, groupings.
    "SalesReport", "SalesRow", "SalesSeries", "SeriesPoint", "SalesFigures", "BestSeller",
    "OutcomeCount", "StockCover", "ChannelStockout", "ChannelLifetimeValue",
    "ChannelSyncHealth", "ChannelSyncStatus", "InventoryAudit", "LevelMismatch",
    "TotalMismatch", "ConflictOutcome", "ListingPreview", "ChannelPrice",
    "ChannelAvailability", "StorefrontItem", "OrderGroup", "Viewer", "PickList", "PickSlot",
    "PickLine", "ConversionReport", "ConversionRow", "ExportLink",
    # One line of a mutation's answer.
    "ReservedLine", "UpsertProductResult",
    # A message on a subscription: something that happened, not a thing.
    "StockChange", "OrderEvent", "ChannelAvailabilityChange", "ApiKeyEvent",
}  # fmt: skip

LOCATION = """mutation($code: String!) {
  createLocation(input: {code: $code, name: $code, kind: WAREHOUSE}) { location { id code } }
}"""
RECEIVE = """mutation($location: ID!) {
  createInventoryItem(input: {sku: "GID-1"}) { userErrors { code } }
  receiveStock(input: {sku: "GID-1", locationId: $location, quantity: 5, idempotencyKey: "k1"}) {
    levels { id location { id } } userErrors { field code }
  }
}"""
ITEM = '{ inventoryItem(sku: "GID-1") { id levels { id available } } }'
NODES = """query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Location { code }
    ... on InventoryItem { sku onHand }
    ... on StockLevel { sku available }
  }
}"""


async def ask(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, key: str
) -> dict[str, Any]:
    """The answer as a client sees it: ids as global ids."""
    return await gql(http, query, variables, key=key, global_ids=True)


def answer(body: dict[str, Any]) -> dict[str, Any]:
    return data(body, global_ids=True)


def _is_entity(name: str) -> bool:
    return not (
        name.startswith("__")
        or name in PLUMBING
        or name.endswith(PLUMBING_SUFFIXES)
        or name in NOT_ENTITIES
    )


def test_every_entity_type_has_a_non_null_id() -> None:
    schema = build_schema()._schema
    objects = [t for t in schema.type_map.values() if isinstance(t, GraphQLObjectType)]
    missing = [
        t.name
        for t in objects
        if _is_entity(t.name)
        and not (
            "id" in t.fields
            and isinstance(t.fields["id"].type, GraphQLNonNull)
            and t.fields["id"].type.of_type is GraphQLID
        )
    ]
    assert missing == [], (
        f"object types without `id: ID!`: {missing}. Give each an id (its domain key), or, if "
        "it is not an entity, add it to NOT_ENTITIES under the reason that fits"
    )
    stale = sorted(NOT_ENTITIES - {t.name for t in objects})
    assert stale == [], f"NOT_ENTITIES names types the schema no longer has: {stale}"


async def test_ids_answered_are_typed_global_ids_that_nodes_refetch(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    location = answer(await ask(http, LOCATION, {"code": "WH-G"}, key=staff_key))
    location_gid = location["createLocation"]["location"]["id"]
    assert location_gid.startswith("gid://nexo/Location/")
    raw = str(parse_id(location_gid, "id"))
    # A raw uuid is still taken on input, as before global ids.
    received = answer(await ask(http, RECEIVE, {"location": raw}, key=staff_key))
    assert received["receiveStock"]["userErrors"] == []
    level = received["receiveStock"]["levels"][0]
    assert level["location"]["id"] == location_gid
    item = answer(await ask(http, ITEM, key=staff_key))["inventoryItem"]
    assert item["id"] == "gid://nexo/InventoryItem/GID-1"
    assert item["levels"][0]["id"] == level["id"] == f"gid://nexo/StockLevel/{raw}:GID-1"

    missing = f"gid://nexo/Location/{uuid.uuid4()}"
    ids = [item["id"], missing, level["id"], location_gid]
    nodes = answer(await ask(http, NODES, {"ids": ids}, key=staff_key))["nodes"]
    assert nodes == [
        {"__typename": "InventoryItem", "id": item["id"], "sku": "GID-1", "onHand": 5},
        None,
        {"__typename": "StockLevel", "id": level["id"], "sku": "GID-1", "available": 5},
        {"__typename": "Location", "id": location_gid, "code": "WH-G"},
    ]


async def test_an_id_of_another_type_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    location = answer(await ask(http, LOCATION, {"code": "WH-T"}, key=staff_key))
    key = location["createLocation"]["location"]["id"].rsplit("/", 1)[1]
    as_channel = f"gid://nexo/Channel/{key}"
    received = answer(await ask(http, RECEIVE, {"location": as_channel}, key=staff_key))
    errors = received["receiveStock"]["userErrors"]
    assert errors == [{"field": "locationId", "code": "NOT_FOUND"}]
    item = answer(await ask(http, ITEM, key=staff_key))["inventoryItem"]
    assert item["levels"] == []
    body = await ask(http, '{ node(id: "not-a-gid") { id } }', key=staff_key)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # A key's parts are percent-decoded, then checked at the edge like any argument.
    body = await ask(http, '{ node(id: "gid://nexo/InventoryItem/A%00") { id } }', key=staff_key)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_node_reads_under_the_permissions_of_the_types_own_query(
    http: httpx.AsyncClient, admin_key: str, readonly_key: str
) -> None:
    keys = answer(await ask(http, "{ apiKeys { id name } }", key=admin_key))["apiKeys"]
    mine = next(k for k in keys if k["name"] == "test-readonly")
    query = "query($id: ID!) { node(id: $id) { id ... on ApiKey { name } } }"
    as_admin = answer(await ask(http, query, {"id": mine["id"]}, key=admin_key))
    assert as_admin["node"] == mine
    as_readonly = await ask(http, query, {"id": mine["id"]}, key=readonly_key)
    assert as_readonly["data"] == {"node": None}
    assert as_readonly["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await ask(http, "{ apiKeys { id } }", key=readonly_key)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
