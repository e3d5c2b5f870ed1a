"""Each channel's listing format: its requests as the marketplace's spec takes them, and its
own problems. Golden files show the trail shirt as each marketplace receives it; run with
NEXO_UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from adapters.channels.mercadolibre import categories
from adapters.channels.mercadolibre.categories import CategoryLimits
from adapters.channels.shopify.mapping import PRODUCT_SET
from adapters.container import CHANNELS
from domain.catalog.model import ProductOption
from domain.channels.listing import ChannelRequest, ListingDraft, Problem
from domain.channels.model import ChannelKind
from domain.money import Money
from tests.unit.channels.drafts import single_variant_draft, trail_shirt_draft
from tests.unit.channels.specs import (
    amazon_errors,
    ebay_errors,
    ebay_operation_schema,
    shopify_errors,
)

LISTING_FORMATS = CHANNELS.listing_formats
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "listing_previews"
MARKETPLACES = ("shopify", "amazon", "ebay", "mercadolibre")


def preview(requests: list[ChannelRequest]) -> str:
    calls = [{"method": r.method, "path": r.path, "body": r.body} for r in requests]
    return json.dumps(calls, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def assert_matches_golden(name: str, text: str) -> None:
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("NEXO_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.exists(), f"no golden file {golden}: run with NEXO_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name}'s requests differ from {golden.name}; if intended, rerun with "
        "NEXO_UPDATE_GOLDEN=1 and review the diff"
    )


def problems_of(draft: ListingDraft) -> list[Problem]:
    return LISTING_FORMATS[draft.channel_kind].problems(draft)


def requests_of(draft: ListingDraft) -> list[ChannelRequest]:
    return LISTING_FORMATS[draft.channel_kind].requests(draft)


def codes_at(draft: ListingDraft) -> set[tuple[str, str]]:
    return {(problem.field, problem.code) for problem in problems_of(draft)}


def with_variants(draft: ListingDraft, count: int) -> ListingDraft:
    template = draft.variants[0]
    return replace(draft, variants=tuple(replace(template, sku=f"TRAIL-{n}") for n in range(count)))


# The whole shape, as each marketplace receives it


def test_every_channel_kind_has_a_listing_format() -> None:
    assert set(LISTING_FORMATS) == {kind.value for kind in ChannelKind}


@pytest.mark.parametrize("kind", MARKETPLACES)
def test_requests_match_the_golden_preview(kind: str) -> None:
    assert_matches_golden(kind, preview(requests_of(trail_shirt_draft(kind))))


@pytest.mark.parametrize("kind", [*MARKETPLACES, "webstore"])
def test_the_trail_shirt_has_no_problems(kind: str) -> None:
    assert problems_of(trail_shirt_draft(kind)) == []


@pytest.mark.parametrize("kind", [*MARKETPLACES, "webstore"])
def test_formats_only_read_the_draft(kind: str) -> None:
    draft = trail_shirt_draft(kind)
    assert preview(requests_of(draft)) == preview(requests_of(draft))
    assert draft == trail_shirt_draft(kind)


# Shopify: one productSet, valid against the Admin GraphQL schema 2026-01


@pytest.mark.parametrize("draft", [trail_shirt_draft("shopify"), single_variant_draft("shopify")])
def test_shopify_document_and_variables_fit_the_admin_schema(draft: ListingDraft) -> None:
    [request] = requests_of(draft)
    assert (request.method, request.path) == ("POST", "/admin/api/2026-01/graphql.json")
    assert request.body["query"] == PRODUCT_SET
    assert shopify_errors(request.body["query"], request.body["variables"]) == []


def test_shopify_check_refuses_what_the_schema_refuses() -> None:
    [request] = requests_of(trail_shirt_draft("shopify"))
    product = {**request.body["variables"]["input"], "colour": "red"}
    errors = shopify_errors(PRODUCT_SET, {**request.body["variables"], "input": product})
    assert any("colour" in error for error in errors)
    product = {**request.body["variables"]["input"], "id": "gid://shopify/Product/1"}
    errors = shopify_errors(PRODUCT_SET, {**request.body["variables"], "input": product})
    assert errors == ["$input.id is deprecated: Use `identifier` instead to get the product's ID"]
    assert shopify_errors("mutation { productSet { userErrors { nope } } }", {})


def test_shopify_upserts_by_handle_with_every_variant() -> None:
    [request] = requests_of(trail_shirt_draft("shopify"))
    variables = request.body["variables"]
    assert variables["identifier"] == {"handle": "trail-shirt"}
    variants = variables["input"]["variants"]
    assert len(variants) == 9
    assert variants[0]["optionValues"] == [
        {"optionName": "Size", "name": "S"},
        {"optionName": "Color", "name": "Red"},
    ]
    assert variants[8]["price"] == "27.00"
    files = {file["originalSource"] for file in variables["input"]["files"]}
    assert {variant["file"]["originalSource"] for variant in variants} <= files


def test_shopify_product_without_options_gets_the_default_title_option() -> None:
    [request] = requests_of(single_variant_draft("shopify"))
    product = request.body["variables"]["input"]
    assert product["productOptions"] == [{"name": "Title", "values": [{"name": "Default Title"}]}]
    assert product["variants"][0]["optionValues"] == [
        {"optionName": "Title", "name": "Default Title"}
    ]


def test_shopify_category_that_is_no_taxonomy_id_becomes_the_product_type() -> None:
    draft = replace(trail_shirt_draft("shopify"), channel_category_id="Trail shirts")
    [request] = requests_of(draft)
    product = request.body["variables"]["input"]
    assert product["productType"] == "Trail shirts"
    assert "category" not in product


def test_shopify_takes_at_most_three_options() -> None:
    draft = trail_shirt_draft("shopify")
    extra = (ProductOption("Fit", ("Slim",)), ProductOption("Sleeve", ("Short",)))
    assert codes_at(replace(draft, options=draft.options + extra)) == {
        ("options", "TOO_MANY_OPTIONS")
    }


def test_shopify_takes_at_most_2048_variants() -> None:
    assert codes_at(with_variants(trail_shirt_draft("shopify"), 2049)) == {
        ("variants", "TOO_MANY_VARIANTS")
    }


def test_shopify_title_over_255_is_refused() -> None:
    draft = replace(trail_shirt_draft("shopify"), title="T" * 256)
    assert codes_at(draft) == {("title", "TITLE_TOO_LONG")}


# Amazon: a parent and one child per variant, each a Listings Items PUT


@pytest.mark.parametrize("draft", [trail_shirt_draft("amazon"), single_variant_draft("amazon")])
def test_amazon_bodies_fit_the_listings_items_put_request(draft: ListingDraft) -> None:
    for request in requests_of(draft):
        assert request.method == "PUT"
        assert amazon_errors("ListingsItemPutRequest", request.body) == []
        for name, values in request.body["attributes"].items():
            assert isinstance(values, list), name
            assert values, name
            assert all(isinstance(value, dict) for value in values), name
            if name not in ("variation_theme", "fulfillment_availability"):
                assert all(value["marketplace_id"] == "ATVPDKIKX0DER" for value in values), name


def test_amazon_check_refuses_a_misspelt_field() -> None:
    body = {**requests_of(trail_shirt_draft("amazon"))[0].body, "requirement": "LISTING"}
    assert amazon_errors("ListingsItemPutRequest", body)
    assert amazon_errors("ListingsItemPutRequest", {"productType": "SHIRT"})


def test_amazon_parent_then_children_point_at_it() -> None:
    parent, *children = requests_of(trail_shirt_draft("amazon"))
    assert parent.path == (
        "/listings/2021-08-01/items/A2SELLER0EXAMPLE/trail-shirt?marketplaceIds=ATVPDKIKX0DER"
    )
    assert parent.body["attributes"]["parentage_level"][0]["value"] == "parent"
    assert parent.body["attributes"]["variation_theme"] == [{"name": "SIZE/COLOR"}]
    assert "purchasable_offer" not in parent.body["attributes"]
    assert len(children) == 9
    for child in children:
        attributes = child.body["attributes"]
        assert attributes["child_parent_sku_relationship"][0]["parent_sku"] == "trail-shirt"
        assert attributes["externally_assigned_product_identifier"][0]["type"] == "ean"
        assert attributes["fulfillment_availability"][0]["fulfillment_channel_code"] == "DEFAULT"
        assert {"size", "color"} <= set(attributes)


def test_amazon_sku_is_url_encoded_in_the_path() -> None:
    draft = single_variant_draft("amazon")
    draft = replace(draft, variants=(replace(draft.variants[0], sku="TRAIL S/RED#1"),))
    [request] = requests_of(draft)
    parts = urlsplit(request.path)
    assert parts.path.rsplit("/", 1)[-1] == "TRAIL%20S%2FRED%231"
    assert unquote(parts.path.rsplit("/", 1)[-1]) == "TRAIL S/RED#1"
    assert parse_qs(parts.query) == {"marketplaceIds": ["ATVPDKIKX0DER"]}


@pytest.mark.parametrize("setting", ["sellerId", "marketplaceId", "productType"])
def test_amazon_needs_its_settings(setting: str) -> None:
    draft = trail_shirt_draft("amazon", **{setting: ""})
    assert codes_at(draft) == {(f"settings.{setting}", "MISSING_SETTING")}


def test_amazon_needs_a_category() -> None:
    draft = replace(trail_shirt_draft("amazon"), channel_category_id=None)
    assert codes_at(draft) == {("categoryId", "MISSING_CATEGORY")}


def test_amazon_option_without_variation_theme_is_a_problem() -> None:
    draft = trail_shirt_draft("amazon")
    fit = ProductOption("Fit", ("Slim",))
    assert codes_at(replace(draft, options=(*draft.options, fit))) == {
        ("options[2].name", "NO_VARIATION_THEME")
    }


def test_amazon_variant_without_gtin_is_a_problem() -> None:
    draft = trail_shirt_draft("amazon")
    variants = (replace(draft.variants[0], barcode=None), *draft.variants[1:])
    assert codes_at(replace(draft, variants=variants)) == {
        ("variants[TRAIL-S-RED].barcode", "MISSING_GTIN")
    }


def test_amazon_gtin_exemption_is_declared_instead() -> None:
    draft = trail_shirt_draft("amazon", gtinExemption="true")
    draft = replace(draft, variants=tuple(replace(v, barcode=None) for v in draft.variants))
    assert problems_of(draft) == []
    child = requests_of(draft)[1].body["attributes"]
    assert child["supplier_declared_has_product_identifier_exemption"][0]["value"] is True
    assert "externally_assigned_product_identifier" not in child


def test_amazon_sku_over_40_is_refused() -> None:
    draft = trail_shirt_draft("amazon")
    variants = (*draft.variants[:-1], replace(draft.variants[-1], sku="S" * 41))
    assert codes_at(replace(draft, variants=variants)) == {
        (f"variants[{'S' * 41}].sku", "VALUE_TOO_LONG")
    }


def test_amazon_title_over_200_is_refused() -> None:
    draft = replace(trail_shirt_draft("amazon"), title="T" * 201)
    assert codes_at(draft) == {("title", "TITLE_TOO_LONG")}


# eBay: inventory items, their group, one offer each, then publish the group


def ebay_spec_path(path: str) -> str:
    path = path.removeprefix("/sell/inventory/v1")
    path = re.sub(r"^/inventory_item/[^/]+$", "/inventory_item/{sku}", path)
    return re.sub(
        r"^/inventory_item_group/[^/]+$", "/inventory_item_group/{inventoryItemGroupKey}", path
    )


@pytest.mark.parametrize("draft", [trail_shirt_draft("ebay"), single_variant_draft("ebay")])
def test_ebay_bodies_fit_the_inventory_api_schemas(draft: ListingDraft) -> None:
    for request in requests_of(draft):
        assert "{" not in request.path, request.path  # every path is one eBay takes as is
        component = ebay_operation_schema(request.method, ebay_spec_path(request.path))
        assert ebay_errors(component, request.body) == [], request.path


def test_ebay_check_refuses_a_misspelt_or_mistyped_field() -> None:
    item = requests_of(trail_shirt_draft("ebay"))[0].body
    assert ebay_errors("InventoryItem", {**item, "conditon": "NEW"})
    assert ebay_errors("InventoryItem", {**item, "product": {**item["product"], "aspects": "x"}})
    offer = requests_of(trail_shirt_draft("ebay"))[10].body
    assert ebay_errors("EbayOfferDetailsWithKeys", {**offer, "availableQuantity": "1"})


def test_ebay_calls_come_in_the_order_eBay_needs() -> None:
    calls = [(r.method, ebay_spec_path(r.path)) for r in requests_of(trail_shirt_draft("ebay"))]
    assert calls == [
        *[("PUT", "/inventory_item/{sku}")] * 9,
        ("PUT", "/inventory_item_group/{inventoryItemGroupKey}"),
        *[("POST", "/offer")] * 9,
        ("POST", "/offer/publish_by_inventory_item_group"),
    ]


def test_ebay_group_varies_by_the_options_and_pictures_by_colour() -> None:
    group = requests_of(trail_shirt_draft("ebay"))[9].body
    assert group["variesBy"] == {
        "aspectsImageVariesBy": ["Color"],
        "specifications": [
            {"name": "Size", "values": ["S", "M", "L"]},
            {"name": "Color", "values": ["Red", "Blue", "Green"]},
        ],
    }
    assert "Size" not in group["aspects"]
    assert group["aspects"]["Brand"] == ["Acme"]


def test_ebay_sku_over_50_is_refused() -> None:
    draft = trail_shirt_draft("ebay")
    variants = (replace(draft.variants[0], sku="S" * 51), *draft.variants[1:])
    assert codes_at(replace(draft, variants=variants)) == {
        (f"variants[{'S' * 51}].sku", "VALUE_TOO_LONG")
    }


def test_ebay_title_over_80_is_refused() -> None:
    draft = replace(trail_shirt_draft("ebay"), title="T" * 81)
    assert codes_at(draft) == {("title", "TITLE_TOO_LONG")}


def test_ebay_aspect_name_over_40_is_refused() -> None:
    draft = replace(trail_shirt_draft("ebay"), attributes=(("N" * 41, "Merino"),))
    assert codes_at(draft) == {("attributes[0].name", "VALUE_TOO_LONG")}


def test_ebay_aspect_value_over_50_is_refused() -> None:
    draft = trail_shirt_draft("ebay")
    size = ProductOption("Size", ("S", "M", "L" * 51))
    assert codes_at(replace(draft, options=(size, draft.options[1]))) == {
        ("options[0].values", "VALUE_TOO_LONG")
    }


def test_ebay_takes_at_most_250_variants() -> None:
    assert codes_at(with_variants(trail_shirt_draft("ebay"), 251)) == {
        ("variants", "TOO_MANY_VARIANTS")
    }


def test_ebay_varies_by_at_most_5_aspects() -> None:
    draft = trail_shirt_draft("ebay")
    extra = tuple(ProductOption(f"Extra {n}", ("One",)) for n in range(4))
    assert codes_at(replace(draft, options=draft.options + extra)) == {
        ("options", "TOO_MANY_OPTIONS")
    }


def test_ebay_needs_a_category() -> None:
    draft = replace(trail_shirt_draft("ebay"), channel_category_id=None)
    assert codes_at(draft) == {("categoryId", "MISSING_CATEGORY")}


def test_ebay_needs_its_policies() -> None:
    draft = trail_shirt_draft("ebay", returnPolicyId="")
    assert codes_at(draft) == {("settings.returnPolicyId", "MISSING_SETTING")}


# MercadoLibre: one POST /items, checked against the contract's documented shape


def test_mercadolibre_item_has_the_documented_shape() -> None:
    [request] = requests_of(trail_shirt_draft("mercadolibre"))
    assert (request.method, request.path) == ("POST", "/items")
    item = request.body
    assert len(item["title"]) <= 60
    assert item["category_id"] == "MLA109282"
    assert (item["price"], item["currency_id"]) == (24999.0, "ARS")
    assert item["buying_mode"] == "buy_it_now"
    assert item["listing_type_id"] == "gold_pro"
    assert item["condition"] == "new"
    assert item["available_quantity"] == sum(v["available_quantity"] for v in item["variations"])
    assert {"id": "BRAND", "value_name": "Acme"} in item["attributes"]
    sources = {picture["source"] for picture in item["pictures"]}
    assert len(item["variations"]) == 9
    for variation in item["variations"]:
        assert [c["name"] for c in variation["attribute_combinations"]] == ["Size", "Color"]
        assert all(c["value_name"] for c in variation["attribute_combinations"])
        skus = [a["value_name"] for a in variation["attributes"] if a["id"] == "SELLER_SKU"]
        assert len(skus) == 1
        assert variation["price"] == item["price"]
        assert set(variation["picture_ids"]) <= sources


def test_mercadolibre_item_without_options_carries_its_sku_itself() -> None:
    [request] = requests_of(single_variant_draft("mercadolibre"))
    assert "variations" not in request.body
    assert {"id": "SELLER_SKU", "value_name": "TRAIL-S-RED"} in request.body["attributes"]


def test_mercadolibre_listing_type_defaults_to_gold_special() -> None:
    [request] = requests_of(trail_shirt_draft("mercadolibre", listingTypeId=""))
    assert request.body["listing_type_id"] == "gold_special"


@pytest.fixture
def meli_categories() -> Iterator[None]:
    """Categories' limits are kept per process: none leaks between tests."""
    categories.forget()
    yield
    categories.forget()


def test_mercadolibre_category_not_read_yet_is_held_to_the_widest_limits(
    meli_categories: None,
) -> None:
    """Until the category's settings are read (sending reads them), a title is not refused
    for its length (the rule's limit made it) and an item takes up to 250 variations."""
    draft = trail_shirt_draft("mercadolibre")
    assert codes_at(replace(with_variants(draft, 250), title="T" * 61)) == set()
    assert codes_at(with_variants(draft, 251)) == {("variants", "TOO_MANY_VARIANTS")}


def test_mercadolibre_checks_a_category_that_allows_more_by_its_own_limits(
    meli_categories: None,
) -> None:
    draft = trail_shirt_draft("mercadolibre")
    categories.remember(str(draft.channel_category_id), CategoryLimits(120, 250))
    assert codes_at(replace(with_variants(draft, 250), title="T" * 120)) == set()
    too_much = replace(with_variants(draft, 251), title="T" * 121)
    problems = {p.code: p.message for p in problems_of(too_much)}
    assert problems == {
        "TITLE_TOO_LONG": "MercadoLibre titles have at most 120 characters in category MLA109282",
        "TOO_MANY_VARIANTS": "a MercadoLibre item has at most 250 variations in category MLA109282",
    }
    other = replace(with_variants(draft, 101), channel_category_id="MLA1055", title="T" * 121)
    assert codes_at(other) == set()  # another category, not read: the send decides


def test_mercadolibre_checks_a_category_that_allows_less_by_its_own_limits(
    meli_categories: None,
) -> None:
    draft = trail_shirt_draft("mercadolibre")
    categories.remember(str(draft.channel_category_id), CategoryLimits(40, 5))
    assert codes_at(replace(draft, title="T" * 40)) == {("variants", "TOO_MANY_VARIANTS")}
    assert codes_at(replace(with_variants(draft, 5), title="T" * 41)) == {
        ("title", "TITLE_TOO_LONG")
    }


def test_mercadolibre_needs_a_category() -> None:
    draft = replace(trail_shirt_draft("mercadolibre"), channel_category_id=None)
    assert codes_at(draft) == {("categoryId", "MISSING_CATEGORY")}


def test_mercadolibre_variations_must_share_one_price() -> None:
    draft = trail_shirt_draft("mercadolibre")
    cheaper = replace(draft.variants[0], price=Money.parse("19999.00", "ARS"))
    assert codes_at(replace(draft, variants=(cheaper, *draft.variants[1:]))) == {
        ("variants.price", "PRICES_DIFFER")
    }


# Every marketplace: prices in the channel's currency


@pytest.mark.parametrize("kind", MARKETPLACES)
def test_a_price_in_another_currency_is_a_problem(kind: str) -> None:
    draft = trail_shirt_draft(kind)
    foreign = replace(draft.variants[0], price=Money.parse("25.00", "EUR"))
    problems = codes_at(replace(draft, variants=(foreign, *draft.variants[1:])))
    assert ("variants[TRAIL-S-RED].price", "CURRENCY_MISMATCH") in problems


# The webstore: the draft as it is


def test_webstore_puts_the_whole_draft() -> None:
    [request] = requests_of(trail_shirt_draft("webstore"))
    assert (request.method, request.path) == ("PUT", "/listings/trail-shirt")
    assert request.body["variants"][0]["price"] == {"amount": "25.00", "currency": "USD"}
    assert json.loads(json.dumps(request.body)) == request.body
