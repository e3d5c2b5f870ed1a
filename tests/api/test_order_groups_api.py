"""`orderGroups` from the customer book: one customer's orders on two channels, matched across
them, are grouped; a name alone groups nothing. Buyers are matched when the test says so (no
periodic jobs)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from adapters.container import Container
from domain.customers.linking import match_buyers
from tests.api.test_orders_api import ADDRESS, GROUPS, M_RED, S_RED, T0, Shop, make_shop
from tests.integration.customers.conftest import container

__all__ = ["container"]  # no periodic jobs: buyers are matched when the test says so

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
async def shop(http: httpx.AsyncClient, staff_key: str, container: Container) -> Shop:
    return await make_shop(http, staff_key, container)


CUSTOMER_GROUPS = """
query {
  orderGroups { rule customerId locationId customerEmail sameAddress orders { id channelId } }
}"""


async def test_one_customers_orders_on_two_channels_at_one_location_are_grouped(
    shop: Shop,
) -> None:
    # One customer: Gmail ignores dots, so both e-mails are one mailbox (matched across
    # channels); the web order ships elsewhere in town. Not hers: the same name with another
    # mailbox and address (a name alone is no evidence); nor her cancelled order.
    elsewhere = {"line1": "9 Elm St", "city": "Springfield", "country": "US"}
    market = await shop.take(shop.market, "c-1", [(S_RED, 1)], email="ada.lovelace@gmail.com")
    web = await shop.take(shop.web, "c-2", [(M_RED, 1)], email="adalovelace@gmail.com",
                          address=elsewhere, placed=T0 + timedelta(minutes=1))  # fmt: skip
    namesake = await shop.take(shop.market, "c-3", [(S_RED, 1)], email="ada@elsewhere.io",
                               address={**elsewhere, "line1": "4 Oak St"})  # fmt: skip
    await shop.take(shop.web, "c-4", [(S_RED, 1)], email="ada.lovelace@gmail.com",
                    status="cancelled")  # fmt: skip
    # Not matched yet: two mailboxes, two addresses; no group.
    assert (await shop.run(CUSTOMER_GROUPS))["orderGroups"] == []

    assert await match_buyers(shop.container.uow) == 4
    groups = (await shop.run(CUSTOMER_GROUPS))["orderGroups"]

    async with shop.container.uow(readonly=True) as uow:
        customers = await uow.customers.customers_of_orders(
            [uuid.UUID(market), uuid.UUID(web), uuid.UUID(namesake)]
        )
    assert customers[uuid.UUID(market)] == customers[uuid.UUID(web)]
    assert customers[uuid.UUID(namesake)] != customers[uuid.UUID(market)]
    [group] = groups
    assert sorted((o["id"], o["channelId"]) for o in group.pop("orders")) == sorted(
        [(market, shop.market), (web, shop.web)]
    )
    # The e-mail and address are the newest order's (the web's).
    assert group == {
        "rule": "CUSTOMER_AND_LOCATION", "customerId": str(customers[uuid.UUID(market)]),
        "locationId": shop.wh, "customerEmail": "adalovelace@gmail.com", "sameAddress": False,
    }  # fmt: skip


async def test_open_orders_of_one_e_mail_to_one_address_are_grouped_before_matching(
    shop: Shop,
) -> None:
    # Buyers not matched into customers yet (no periodic matcher here: with it, the run
    # might match them first and group by customer instead).
    market = await shop.take(shop.market, "g-1", [(S_RED, 1)], email="ADA@example.com ")
    web = await shop.placed(
        "cart-g", [(M_RED, 1)],
        address={"line1": "1  main st", "city": "Springfield", "country": "US", "line2": ""},
    )  # fmt: skip
    # Not grouped: another address, another customer, a cancelled order, no e-mail.
    await shop.take(shop.market, "g-2", [(S_RED, 1)], address={**ADDRESS, "line1": "2 Main St"})
    await shop.take(shop.market, "g-3", [(S_RED, 1)], email="bob@example.com")
    await shop.take(shop.market, "g-4", [(S_RED, 1)], status="cancelled")
    await shop.take(shop.web, "g-5", [(S_RED, 1)], email="")

    groups = (await shop.run(GROUPS))["orderGroups"]

    assert len(groups) == 1
    [group] = groups
    assert group["customerEmail"] == "ada@example.com"
    assert group["address"] in (ADDRESS, web["shippingAddress"])
    assert sorted((o["id"], o["channelId"]) for o in group["orders"]) == sorted(
        [(market, shop.market), (web["id"], shop.web)]
    )
