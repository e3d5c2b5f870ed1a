"""The eBay sandbox against eBay's published OpenAPI specs, both ways: a body the spec refuses
is refused (and changes nothing), an answer the spec refuses is caught, and where the spec
contradicts its own documented example (`aspects`) the example is what is checked."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from sandbox.ebay import EbaySandbox, spec

INVENTORY = "/sell/inventory/v1"
ITEM = {
    "product": {"title": "Camp Mug", "aspects": {"Brand": ["Acme"], "Material": ["Steel"]},
                "imageUrls": ["https://img.example/mug.jpg"]},
    "condition": "NEW",
    "availability": {"shipToLocationAvailability": {"quantity": 3}},
}  # fmt: skip


async def client(sandbox: EbaySandbox) -> httpx.AsyncClient:
    api = httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.app), base_url="https://e.test")
    basic = base64.b64encode(f"{sandbox.client_id}:{sandbox.client_secret}".encode()).decode()
    answer = await api.post(
        "/identity/v1/oauth2/token", headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "refresh_token", "refresh_token": sandbox.refresh_token},
    )  # fmt: skip
    api.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    api.headers["Content-Language"] = "en-US"
    return api


async def test_a_body_the_spec_refuses_is_refused_and_changes_nothing() -> None:
    sandbox = EbaySandbox()
    api = await client(sandbox)
    misspelt = {**ITEM, "conditon": "NEW"}
    answer = await api.put(f"{INVENTORY}/inventory_item/MUG", json=misspelt)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["errorId"] == 2004
    mistyped = {"requests": [{"sku": "MUG", "shipToLocationAvailability": {"quantity": "3"}}]}
    answer = await api.post(f"{INVENTORY}/bulk_update_price_quantity", json=mistyped)
    assert answer.status_code == 400
    assert sandbox.store.items == {}
    assert sandbox.violations == []  # its error answers fit the spec's Error


async def test_a_write_without_content_language_is_refused() -> None:
    sandbox = EbaySandbox()
    api = await client(sandbox)
    del api.headers["Content-Language"]
    answer = await api.put(f"{INVENTORY}/inventory_item/MUG", json=ITEM)
    assert (answer.status_code, answer.json()["errors"][0]["errorId"]) == (400, 25709)
    assert sandbox.store.items == {}


async def test_field_limits_are_refused_with_errors_naming_them() -> None:
    sandbox = EbaySandbox()
    api = await client(sandbox)
    long = {**ITEM, "product": {**ITEM["product"], "title": "T" * 81,
                                "imageUrls": ["https://img.example/x.jpg"] * 25}}  # fmt: skip
    answer = await api.put(f"{INVENTORY}/inventory_item/MUG", json=long)
    messages = [e["message"] for e in answer.json()["errors"]]
    assert answer.status_code == 400
    assert any("title" in m for m in messages)
    assert any("24 images" in m for m in messages)
    answer = await api.put(f"{INVENTORY}/inventory_item/{'S' * 51}", json=ITEM)
    assert answer.json()["errors"][0]["errorId"] == 25709
    assert sandbox.store.items == {}


def test_aspects_follow_ebays_own_example_not_the_published_string_type() -> None:
    # The spec declares `aspects` a string; its description's example (and eBay) has an
    # object of name -> list of values. The example is what the sandbox checks.
    published = spec._spec(spec.INVENTORY)["components"]["schemas"]["Product"]
    assert published["properties"]["aspects"]["type"] == "string"
    assert '"Brand": ["GoPro"]' in published["properties"]["aspects"]["description"]
    assert spec.errors(spec.INVENTORY, "InventoryItem", ITEM) == []
    as_string = {**ITEM, "product": {**ITEM["product"], "aspects": "Brand=Acme"}}
    assert spec.errors(spec.INVENTORY, "InventoryItem", as_string)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("POST", f"{INVENTORY}/offer", 201, {"offerId": 5}),
        ("POST", f"{INVENTORY}/offer/1/publish", 200, {"listing": "1"}),
        ("POST", f"{INVENTORY}/bulk_update_price_quantity", 207,
         {"responses": [{"sku": "A", "statusCode": "400"}]}),
        ("GET", "/sell/fulfillment/v1/order", 200, {"orders": [{"lineItems": {}}]}),
        ("GET", f"{INVENTORY}/offer/1", 400, {"errors": [{"errorId": "25002"}]}),
        ("POST", f"{INVENTORY}/offer", 202, {"offerId": "5"}),
    ],
)  # fmt: skip
def test_an_answer_the_spec_refuses_is_caught(
    method: str, path: str, status: int, body: Any
) -> None:
    assert spec.response_errors(method, path, status, body)


def test_answers_that_fit_the_spec_pass() -> None:
    assert spec.response_errors("POST", f"{INVENTORY}/offer", 201, {"offerId": "5"}) == []
    good = {"responses": [{"sku": "A", "statusCode": 400, "errors": [{"errorId": 25004}]}]}
    assert spec.response_errors("POST", f"{INVENTORY}/bulk_update_price_quantity", 207, good) == []
