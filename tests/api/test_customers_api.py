"""The customer book over GraphQL: search, one customer's history, merge, unmerge, forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.container import Container
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.customers.linking import match_buyers
from domain.inventory import setup
from domain.money import Money
from domain.orders.ingest import ingest
from tests.graphql import data, gql

pytestmark = pytest.mark.usefixtures("app")

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ERRORS = "userErrors { field message code }"
CUSTOMERS = """
query($search: String, $first: Int!, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    nodes { id name email } pageInfo { hasNextPage endCursor }
  }
}"""
CUSTOMER = """
query($id: ID!, $currency: String) {
  customer(id: $id) {
    id name email mergedInto forgottenAt
    identities { id channelId buyerRef email rule evidence }
    history(currency: $currency) {
      orderCount openOrderCount firstOrderAt lastOrderAt
      lifetimeValue { amount currencyCode } byChannel { channelId orders value { amount } }
    }
    orders(first: 1) { nodes { externalId customer { email } } pageInfo { hasNextPage } }
    openOrders { externalId }
    audit { action actor detail }
  }
}"""
MERGE = f"""
mutation($input: MergeCustomersInput!) {{
  mergeCustomers(input: $input) {{ customer {{ id }} {ERRORS} }}
}}"""
UNMERGE = f"""
mutation($input: UnmergeCustomerInput!) {{
  unmergeCustomer(input: $input) {{ customer {{ id }} previous {{ id }} {ERRORS} }}
}}"""
FORGET = f"""
mutation($input: ForgetCustomerInput!) {{
  forgetCustomer(input: $input) {{
    customer {{ id name forgottenAt }} erasedIdentities erasedOrders {ERRORS}
  }}
}}"""


def _order(
    external_id: str, email: str, placed: datetime, buyer: str | None = None
) -> ChannelOrder:
    return ChannelOrder(
        external_id=external_id,
        number=external_id,
        updated_at=placed,
        placed_at=placed,
        status="paid",
        lines=(ChannelOrderLine(f"{external_id}-1", "SKU-1", 2, Money(1250, "USD")),),
        customer={"id": buyer, "email": email, "name": "Ada"},
    )


async def _orders(container: Container) -> tuple[str, str]:
    async with container.uow() as uow:
        wh = await setup.create_location(uow, code="WH", name="Warehouse", kind="warehouse")
        await setup.create_inventory_item(uow, sku="SKU-1")
        channels = [
            await channel_setup.create_channel(
                uow,
                name=name,
                kind=kind,
                currency="USD",
                priority=1,
                location_ids=[wh.id],
                rule=AvailabilityRule(),
            )
            for name, kind in (("Shop", "shopify"), ("Bay", "ebay"))
        ]
        await uow.commit()
    shop, bay = (c.id for c in channels)
    await ingest(container.uow, shop, _order("S-1", "ada@gmail.com", T0), actor="t")
    await ingest(container.uow, bay, _order("E-1", "a.da@gmail.com", T0 + timedelta(1)), actor="t")
    await ingest(container.uow, bay, _order("E-2", "bob@x.io", T0, buyer="bob"), actor="t")
    await match_buyers(container.uow)
    return str(shop), str(bay)


async def test_a_customer_across_channels_with_its_history(
    http: httpx.AsyncClient, container: Container, readonly_key: str
) -> None:
    shop, bay = await _orders(container)
    found = data(await gql(http, CUSTOMERS, {"search": "ADA@", "first": 10}, key=readonly_key))
    [ada] = found["customers"]["nodes"]
    assert ada["email"] == "ada@gmail.com"

    one = data(await gql(http, CUSTOMER, {"id": ada["id"]}, key=readonly_key))["customer"]
    assert [(i["channelId"], i["rule"]) for i in one["identities"]] == [
        (shop, "NEW"),
        (bay, "EMAIL"),
    ]
    history = one["history"]
    assert (history["orderCount"], history["openOrderCount"]) == (2, 2)
    assert history["lifetimeValue"] == {"amount": "50.00", "currencyCode": "USD"}
    assert sorted((c["channelId"], c["value"]["amount"]) for c in history["byChannel"]) == sorted(
        [(shop, "25.00"), (bay, "25.00")]
    )
    assert one["orders"]["nodes"] == [
        {"externalId": "E-1", "customer": {"email": "a.da@gmail.com"}}
    ]
    assert one["orders"]["pageInfo"]["hasNextPage"] is True
    assert {o["externalId"] for o in one["openOrders"]} == {"S-1", "E-1"}

    page = data(await gql(http, CUSTOMERS, {"first": 1}, key=readonly_key))["customers"]
    rest = await gql(
        http, CUSTOMERS, {"first": 5, "after": page["pageInfo"]["endCursor"]}, key=readonly_key
    )
    assert len(page["nodes"]) + len(data(rest)["customers"]["nodes"]) == 2
    refused = await gql(http, CUSTOMER, {"id": ada["id"], "currency": "XXX"}, key=readonly_key)
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_merge_unmerge_and_forget_are_audited_and_guarded(
    http: httpx.AsyncClient, container: Container, staff_key: str, admin_key: str
) -> None:
    await _orders(container)
    nodes = data(await gql(http, CUSTOMERS, {"first": 10}, key=staff_key))["customers"]["nodes"]
    ada = next(n["id"] for n in nodes if n["email"] == "ada@gmail.com")
    bob = next(n["id"] for n in nodes if n["email"] == "bob@x.io")

    bad = data(await gql(http, MERGE, {"input": {"customerIds": [ada]}}, key=staff_key))
    assert bad["mergeCustomers"]["userErrors"][0]["code"] == "INVALID_INPUT"
    merged = data(
        await gql(http, MERGE, {"input": {"customerIds": [ada, bob], "into": ada}}, key=staff_key)
    )["mergeCustomers"]
    assert merged == {"customer": {"id": ada}, "userErrors": []}

    one = data(await gql(http, CUSTOMER, {"id": ada}, key=staff_key))["customer"]
    bob_identity = next(i["id"] for i in one["identities"] if i["buyerRef"] == "id:bob")
    assert one["history"]["orderCount"] == 3
    unmerged = data(
        await gql(http, UNMERGE, {"input": {"identityId": bob_identity}}, key=staff_key)
    )["unmergeCustomer"]
    assert unmerged["previous"] == {"id": ada}
    assert unmerged["customer"]["id"] not in (ada, bob)
    trail = data(await gql(http, CUSTOMER, {"id": ada}, key=staff_key))["customer"]["audit"]
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("merged", "test-staff"),
        ("unmerged", "test-staff"),
    ]

    denied = await gql(http, FORGET, {"input": {"customerId": ada}}, key=staff_key)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    forgot = data(await gql(http, FORGET, {"input": {"customerId": ada}}, key=admin_key))
    done = forgot["forgetCustomer"]
    assert (done["erasedIdentities"], done["erasedOrders"], done["customer"]["name"]) == (
        2,
        2,
        None,
    )
    after = data(await gql(http, CUSTOMER, {"id": ada}, key=staff_key))["customer"]
    assert after["history"]["orderCount"] == 2
    assert after["orders"]["nodes"][0]["customer"]["email"] is None
