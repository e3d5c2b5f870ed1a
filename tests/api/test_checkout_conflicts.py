"""A web store order `placeOrder` answered ALLOCATED keeps its unit when a Shopify order for the
same last unit is taken in after it, even one stamped earlier by the shop's whole-second clock.

Before, the shop's order (stamped up to a second early, and the sandbox's clock ran up to 1.4 s
behind) took the unit back about 100 ms after the customer was told "order placed".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.container import Container
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory.model import ReservationStatus
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from tests.api.catalog.support import create_product, shirt
from tests.graphql import data, gql

SKU = "TS-S-RED"
ERRORS = "userErrors { field message code }"
CHECKOUT = f"""
mutation($input: CheckoutReserveInput!) {{
  checkoutReserve(input: $input) {{ reservations {{ id }} {ERRORS} }}
}}"""
PLACE_ORDER = f"""
mutation($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{ order {{ id status placedAt lines {{ status }} }} {ERRORS} }}
}}"""
ORDER = """
query($id: ID!) {
  order(id: $id) {
    status lines { status } conflicts { policy resolution winnerOrderId }
  }
}"""
SETUP = """
mutation($wh: String!) {
  createLocation(input: {code: $wh, name: $wh, kind: WAREHOUSE}) { location { id } }
}"""
CREATE_CHANNEL = """
mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { channel { id } userErrors { code } }
}"""
RECEIVE = """
mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { userErrors { code } } }"""


@dataclass
class Store:
    """A web store and a Shopify shop fed by one warehouse holding the SKU's last unit."""

    http: httpx.AsyncClient
    container: Container
    key: str
    web: str
    shop: str

    async def run(self, document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(self.http, document, variables, key=self.key))

    async def checkout(self, cart: str, sku: str) -> None:
        body = await self.run(
            CHECKOUT,
            input={"channelId": self.web, "cartId": cart, "idempotencyKey": f"hold-{cart}",
                   "lines": [{"sku": sku, "quantity": 1}]},
        )  # fmt: skip
        assert body["checkoutReserve"]["userErrors"] == []

    async def place(self, cart: str, sku: str) -> dict[str, Any]:
        """The web store completes the paid cart: Nexo's answer is what the customer is told."""
        body = await self.run(
            PLACE_ORDER,
            input={"channelId": self.web, "cartId": cart, "idempotencyKey": f"place-{cart}",
                   "customer": {"name": "Ada", "email": "ada@example.com"},
                   "shippingAddress": {"line1": "1 Main St", "country": "US"},
                   "lines": [{"sku": sku, "quantity": 1,
                              "unitPrice": {"amount": "20.00", "currencyCode": "USD"}}]},
        )  # fmt: skip
        payload: dict[str, Any] = body["placeOrder"]
        assert payload["userErrors"] == []
        order: dict[str, Any] = payload["order"]
        return order

    async def shop_order(self, external_id: str, sku: str, placed: datetime) -> str:
        """A Shopify order (its time in whole seconds) taken in and reserved as the sync does."""
        stamped = placed.replace(microsecond=0)
        incoming = ChannelOrder(
            external_id=external_id, number=f"#{external_id}", updated_at=stamped,
            placed_at=stamped, status="paid",
            lines=(ChannelOrderLine(f"{external_id}-1", sku, 1, Money(2000, "USD")),),
        )  # fmt: skip
        uows = self.container.uow
        taken = await ingest(uows, uuid.UUID(self.shop), incoming, actor="test-sync")
        await allocate(uows, taken.order.id, actor="test-sync")
        return str(taken.order.id)

    async def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (await self.run(ORDER, id=order_id))["order"]
        return found

    async def holders(self, sku: str) -> list[str | None]:
        async with self.container.uow(readonly=True) as uow:
            held = await uow.inventory.list_reservations(
                sku=sku, status=ReservationStatus.ACTIVE, reference=None, first=10, after=None
            )
        return [r.reference for r in held]


@pytest.fixture
async def store(http: httpx.AsyncClient, staff_key: str, container: Container) -> Store:
    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []

    async def run(document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(http, document, variables, key=staff_key))

    wh = (await run(SETUP, wh="WH1"))["createLocation"]["location"]["id"]
    channels = {}
    for name, kind in (("Web", "WEBSTORE"), ("Shop", "SHOPIFY")):
        body = await run(
            CREATE_CHANNEL,
            input={"name": name, "kind": kind, "currency": "USD", "locationIds": [wh]},
        )
        channels[kind] = body["createChannel"]["channel"]["id"]
    body = await run(
        RECEIVE, input={"sku": SKU, "locationId": wh, "quantity": 1, "idempotencyKey": "in-1"}
    )
    assert body["receiveStock"]["userErrors"] == []
    return Store(http, container, staff_key, channels["WEBSTORE"], channels["SHOPIFY"])


@pytest.mark.parametrize("shop_stamp", [timedelta(0), timedelta(seconds=1)])
async def test_a_shop_order_taken_in_after_placeorder_allocated_does_not_take_its_unit(
    store: Store, shop_stamp: timedelta
) -> None:
    await store.checkout("cart-1", SKU)
    web = await store.place("cart-1", SKU)
    assert (web["status"], [ln["status"] for ln in web["lines"]]) == ("ALLOCATED", ["ALLOCATED"])
    # The shop's order, stamped in the web order's second or the one before (the shop's
    # clock is whole seconds), reaches Nexo just after: the customer was told "order placed".
    placed = datetime.fromisoformat(web["placedAt"]) - shop_stamp

    shop_id = await store.shop_order("S-1", SKU, placed)

    after = await store.order(web["id"])
    assert (after["status"], [ln["status"] for ln in after["lines"]]) == (
        "ALLOCATED", ["ALLOCATED"],
    )  # fmt: skip
    assert await store.holders(SKU) == [f"order:{web['id']}"]
    shop = await store.order(shop_id)
    assert (shop["status"], [ln["status"] for ln in shop["lines"]]) == ("OPEN", ["SHORT"])
    [conflict] = shop["conflicts"]
    assert conflict["policy"] == "FIRST_COME"
