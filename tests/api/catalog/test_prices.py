"""Channel prices through the API: rules, rates, overrides and sales, each step explained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.catalog.support import (
    PRODUCT,
    create_channel,
    create_product,
    set_listing_rule,
    shirt,
)
from tests.graphql import data, gql

SKU = "TS-M-RED"

CHANNEL_PRICE = """
query($sku: String!, $channelId: ID!) {
  channelPrice(sku: $sku, channelId: $channelId) {
    price { amount currencyCode }
    compareAtPrice { amount currencyCode }
    explanation { step price { amount currencyCode } }
  }
}"""

SET_PRICE_RULE = """
mutation($input: SetPriceRuleInput!) {
  setPriceRule(input: $input) {
    channel { id catalog { priceRule { markupPercent rounding charmEnding } } }
    userErrors { field message code }
  }
}"""

SET_CURRENCY_RATE = """
mutation($input: SetCurrencyRateInput!) {
  setCurrencyRate(input: $input) {
    rate { fromCurrency toCurrency rate }
    userErrors { field message code }
  }
}"""

SET_SKU_PRICE_OVERRIDE = """
mutation($input: SetSkuPriceOverrideInput!) {
  setSkuPriceOverride(input: $input) {
    channelPrice { price { amount currencyCode } }
    userErrors { field message code }
  }
}"""

SCHEDULE_SALE_PRICE = """
mutation($input: ScheduleSalePriceInput!) {
  scheduleSalePrice(input: $input) {
    channelPrice { price { amount currencyCode } compareAtPrice { amount currencyCode } }
    userErrors { field message code }
  }
}"""


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def mutate(
    http: httpx.AsyncClient, key: str, document: str, name: str, input: dict[str, Any]
) -> dict[str, Any]:
    """Run one settings mutation; returns its payload (userErrors included)."""
    payload: dict[str, Any] = data(await gql(http, document, {"input": input}, key=key))[name]
    return payload


async def set_price_rule(
    http: httpx.AsyncClient, key: str, channel_id: str, **rule: Any
) -> dict[str, Any]:
    return await mutate(
        http, key, SET_PRICE_RULE, "setPriceRule", {"channelId": channel_id, **rule}
    )


async def set_rate(
    http: httpx.AsyncClient, key: str, source: str, target: str, rate: str
) -> dict[str, Any]:
    return await mutate(
        http,
        key,
        SET_CURRENCY_RATE,
        "setCurrencyRate",
        {"fromCurrency": source, "toCurrency": target, "rate": rate},
    )


async def channel_price(
    http: httpx.AsyncClient, key: str, channel_id: str, sku: str = SKU
) -> dict[str, Any]:
    body = await gql(http, CHANNEL_PRICE, {"sku": sku, "channelId": channel_id}, key=key)
    price: dict[str, Any] = data(body)["channelPrice"]
    return price


def steps(price: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["step"], s["price"]["amount"]) for s in price["explanation"]]


@dataclass(frozen=True)
class Shop:
    """The shirt, priced on Amazon (+15% + 1.50 USD), MercadoLibre (ARS, .99) and in JPY."""

    amazon: str
    mercadolibre: str
    japan: str

    @property
    def channels(self) -> tuple[str, str, str]:
        return self.amazon, self.mercadolibre, self.japan


async def open_shop(http: httpx.AsyncClient, key: str) -> Shop:
    assert (await create_product(http, key, shirt()))["userErrors"] == []
    shop = Shop(
        amazon=await create_channel(http, key, "Amazon", "amazon", "USD"),
        mercadolibre=await create_channel(http, key, "MercadoLibre", "mercadolibre", "ARS"),
        japan=await create_channel(http, key, "ShopifyJP", "shopify", "JPY"),
    )
    settings = [
        await set_price_rule(http, key, shop.amazon, markupPercent="15", fixedAmount=usd("1.50")),
        await set_price_rule(http, key, shop.mercadolibre, rounding="CHARM", charmEnding="0.99"),
        await set_rate(http, key, "USD", "ARS", "1052.5"),
        await set_rate(http, key, "USD", "JPY", "151.3"),
    ]
    assert all(s["userErrors"] == [] for s in settings), settings
    return shop


async def test_amazon_adds_its_markup_then_its_fixed_fee(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)

    price = await channel_price(http, staff_key, shop.amazon)

    assert price["price"] == usd("24.50")
    assert price["compareAtPrice"] is None
    assert [amount for _, amount in steps(price)] == ["20.00", "23.00", "24.50", "24.50"]


async def test_the_web_store_sells_five_percent_below_the_base_price(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    await create_product(http, staff_key, shirt())
    web = await create_channel(http, staff_key, "Web", "webstore", "USD")
    assert (await set_price_rule(http, staff_key, web, markupPercent="-5"))["userErrors"] == []

    price = await channel_price(http, staff_key, web)

    assert price["price"] == usd("19.00")


async def test_mercadolibre_converts_at_the_stored_rate_and_rounds_up_to_99(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)

    price = await channel_price(http, staff_key, shop.mercadolibre)

    # 20.00 USD x 1052.5 = 21050.00 ARS, rounded up to the next amount ending in .99.
    assert price["price"] == {"amount": "21050.99", "currencyCode": "ARS"}
    assert price["price"]["amount"].endswith(".99")
    explained = steps(price)
    conversion = [amount for step, amount in explained if "convert" in step]
    rounding = [amount for step, amount in explained if "round" in step]
    assert conversion == ["21050.00"]
    assert rounding == ["21050.99"]
    assert any("1052.5" in step for step, _ in explained)


async def test_a_margin_floor_lifts_a_price_below_cost_plus_margin(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    await create_product(http, staff_key, shirt())
    web = await create_channel(http, staff_key, "Web", "webstore", "USD")
    rule = await set_price_rule(http, staff_key, web, markupPercent="-50", minMarginPercent="50")
    assert rule["userErrors"] == []

    price = await channel_price(http, staff_key, web)

    # -50% makes 10.00; cost 8.00 x 1.5 = 12.00 is the least this channel may charge.
    assert price["price"] == usd("12.00")
    assert [amount for _, amount in steps(price)] == ["20.00", "10.00", "12.00", "12.00"]


async def test_a_sku_override_wins_over_the_channel_rule_for_that_sku_only(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)

    payload = await mutate(
        http,
        staff_key,
        SET_SKU_PRICE_OVERRIDE,
        "setSkuPriceOverride",
        {"channelId": shop.amazon, "sku": SKU, "price": usd("21.00")},
    )

    assert payload["userErrors"] == []
    assert payload["channelPrice"]["price"] == usd("21.00")
    assert (await channel_price(http, staff_key, shop.amazon))["price"] == usd("21.00")
    other = await channel_price(http, staff_key, shop.amazon, sku="TS-M-BLUE")
    assert other["price"] == usd("24.50")


async def test_removing_an_override_restores_the_rule_price(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)
    override = {"channelId": shop.amazon, "sku": SKU, "price": usd("21.00")}
    await mutate(http, staff_key, SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride", override)

    payload = await mutate(
        http, staff_key, SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride",
        {"channelId": shop.amazon, "sku": SKU, "price": None},
    )  # fmt: skip

    assert payload["userErrors"] == []
    assert (await channel_price(http, staff_key, shop.amazon))["price"] == usd("24.50")


async def test_overrides_and_sales_reach_the_listing_intended_prices(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)
    await set_listing_rule(http, staff_key, shop.amazon, selector={"kind": "ALL"})
    override = {"channelId": shop.amazon, "sku": "TS-S-RED", "price": usd("21.00")}
    sale = {"channelId": shop.amazon, "sku": "TS-L-BLUE", "price": usd("18.00"),
            "startsAt": at(-timedelta(hours=1))}  # fmt: skip

    await mutate(http, staff_key, SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride", override)
    await mutate(http, staff_key, SCHEDULE_SALE_PRICE, "scheduleSalePrice", sale)

    listings = data(
        await gql(http, "{ listings(first: 10) { edges { node { channelId items { sku"
                  " intendedPrice { amount } intendedCompareAtPrice { amount } } } } } }",
                  key=staff_key)
    )["listings"]["edges"]  # fmt: skip
    (listing,) = [e["node"] for e in listings if e["node"]["channelId"] == shop.amazon]
    items = {i["sku"]: i for i in listing["items"]}
    assert items["TS-S-RED"]["intendedPrice"] == {"amount": "21.00"}
    assert items["TS-L-BLUE"]["intendedPrice"] == {"amount": "18.00"}
    assert items["TS-L-BLUE"]["intendedCompareAtPrice"] == {"amount": "24.50"}
    assert items["TS-M-RED"]["intendedPrice"] == {"amount": "24.50"}


async def test_an_active_sale_shows_the_regular_price_as_compare_at(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)

    payload = await mutate(
        http,
        staff_key,
        SCHEDULE_SALE_PRICE,
        "scheduleSalePrice",
        {
            "channelId": shop.amazon,
            "sku": SKU,
            "price": usd("18.00"),
            "startsAt": at(-timedelta(hours=1)),
            "endsAt": at(timedelta(hours=1)),
        },
    )

    assert payload["userErrors"] == []
    price = await channel_price(http, staff_key, shop.amazon)
    assert price["price"] == usd("18.00")
    assert price["compareAtPrice"] == usd("24.50")


async def test_a_future_sale_does_not_apply_yet(http: httpx.AsyncClient, staff_key: str) -> None:
    shop = await open_shop(http, staff_key)

    payload = await mutate(
        http,
        staff_key,
        SCHEDULE_SALE_PRICE,
        "scheduleSalePrice",
        {
            "channelId": shop.amazon,
            "sku": SKU,
            "price": usd("18.00"),
            "startsAt": at(timedelta(days=1)),
            "endsAt": at(timedelta(days=2)),
        },
    )

    assert payload["userErrors"] == []
    price = await channel_price(http, staff_key, shop.amazon)
    assert price["price"] == usd("24.50")
    assert price["compareAtPrice"] is None


async def test_the_explanation_ends_at_the_price_the_channel_shows(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await open_shop(http, staff_key)
    sale = {"channelId": shop.amazon, "sku": "TS-L-BLUE", "price": usd("18.00")}
    await mutate(http, staff_key, SCHEDULE_SALE_PRICE, "scheduleSalePrice", sale)
    override = {"channelId": shop.amazon, "sku": "TS-S-RED", "price": usd("21.00")}
    await mutate(http, staff_key, SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride", override)

    for channel in shop.channels:
        for sku in ("TS-M-RED", "TS-L-BLUE", "TS-S-RED"):
            price = await channel_price(http, staff_key, channel, sku)
            assert price["explanation"][0]["price"] == usd("20.00")
            assert price["explanation"][-1]["price"] == price["price"], (channel, sku)


async def test_a_channel_without_an_exchange_rate_has_no_price_and_its_listing_says_why(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    product = (await create_product(http, staff_key, shirt()))["product"]
    ml = await create_channel(http, staff_key, "MercadoLibre", "mercadolibre", "ARS")
    assert (await set_listing_rule(http, staff_key, ml, selector={"kind": "ALL"}))[
        "userErrors"
    ] == []

    body = await gql(http, CHANNEL_PRICE, {"sku": SKU, "channelId": ml}, key=staff_key)

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    read = data(await gql(http, PRODUCT, {"id": product["id"]}, key=staff_key))["product"]
    (listing,) = [x for x in read["listings"] if x["channelId"] == ml]
    assert listing["status"] == "ERROR"
    assert "PRICE_UNAVAILABLE" in {p["code"] for p in listing["problems"]}


async def test_storing_the_missing_rate_prices_the_listing(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    product = (await create_product(http, staff_key, shirt()))["product"]
    ml = await create_channel(http, staff_key, "MercadoLibre", "mercadolibre", "ARS")
    await set_listing_rule(http, staff_key, ml, selector={"kind": "ALL"})

    assert (await set_rate(http, staff_key, "USD", "ARS", "1000"))["userErrors"] == []

    assert (await channel_price(http, staff_key, ml))["price"]["amount"] == "20000.00"
    read = data(await gql(http, PRODUCT, {"id": product["id"]}, key=staff_key))["product"]
    (listing,) = [x for x in read["listings"] if x["channelId"] == ml]
    assert "PRICE_UNAVAILABLE" not in {p["code"] for p in listing["problems"]}
    assert {i["intendedPrice"]["amount"] for i in listing["items"]} == {"20000.00"}


BadInput = Callable[[Shop], tuple[str, str, dict[str, Any]]]


def rate_from(source: str, target: str, rate: str) -> BadInput:
    input = {"fromCurrency": source, "toCurrency": target, "rate": rate}
    return lambda shop: (SET_CURRENCY_RATE, "setCurrencyRate", input)


def charm_on_japan(shop: Shop) -> tuple[str, str, dict[str, Any]]:
    input = {"channelId": shop.japan, "rounding": "CHARM", "charmEnding": "0.99"}
    return SET_PRICE_RULE, "setPriceRule", input


def sale_ending_before_it_starts(shop: Shop) -> tuple[str, str, dict[str, Any]]:
    input = {
        "channelId": shop.amazon,
        "sku": SKU,
        "price": usd("18.00"),
        "startsAt": at(-timedelta(hours=1)),
        "endsAt": at(-timedelta(hours=2)),
    }
    return SCHEDULE_SALE_PRICE, "scheduleSalePrice", input


def override_in_euros(shop: Shop) -> tuple[str, str, dict[str, Any]]:
    input = {"channelId": shop.amazon, "sku": SKU, "price": {"amount": "21.00",
             "currencyCode": "EUR"}}  # fmt: skip
    return SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride", input


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (rate_from("XXX", "ARS", "2"), "fromCurrency"),
        (rate_from("USD", "ZZZ", "2"), "toCurrency"),
        (rate_from("USD", "ARS", "0"), "rate"),
        (rate_from("USD", "ARS", "-1052.5"), "rate"),
        (rate_from("USD", "ARS", ""), "rate"),
        (charm_on_japan, "rounding"),
        (sale_ending_before_it_starts, "endsAt"),
        (override_in_euros, "price"),
    ],
    ids=["unknown-from-currency", "unknown-to-currency", "zero-rate", "negative-rate",
         "empty-rate", "charm-cents-on-jpy", "sale-ends-before-start", "override-in-eur"],
)  # fmt: skip
async def test_bad_price_settings_are_user_errors_and_change_no_price(
    http: httpx.AsyncClient, staff_key: str, bad: BadInput, field: str
) -> None:
    shop = await open_shop(http, staff_key)
    before = [await channel_price(http, staff_key, c) for c in shop.channels]
    document, name, input = bad(shop)

    payload = await mutate(http, staff_key, document, name, input)

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID_INPUT")]
    assert [await channel_price(http, staff_key, c) for c in shop.channels] == before


async def test_a_readonly_key_cannot_change_prices(
    http: httpx.AsyncClient, staff_key: str, readonly_key: str
) -> None:
    shop = await open_shop(http, staff_key)
    before = await channel_price(http, staff_key, shop.amazon)

    body = await gql(
        http, SET_PRICE_RULE, {"input": {"channelId": shop.amazon, "markupPercent": "50"}},
        key=readonly_key,
    )  # fmt: skip

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await channel_price(http, staff_key, shop.amazon) == before
