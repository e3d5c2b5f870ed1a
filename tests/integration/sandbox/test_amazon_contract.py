"""The Amazon sandbox holds to the official models both ways: it refuses a request body the
operation's schema refuses (400 InvalidInput, nothing changed), and every answer it gives is
checked against the operation's response schema (a bad one is recorded, and fails the test).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.channel_kit.sigv4 import AwsCredentials, sign
from adapters.channels.amazon.notifications import SqsQueue
from domain.channels.port import ChannelMisconfigured
from sandbox.amazon import AmazonSandbox, contract
from sandbox.amazon.queue import SqsKeys

API = "https://sellingpartnerapi-na.amazon.com"
SELLER, MARKETPLACE = "A2SANDBOXSELLER1", "ATVPDKIKX0DER"
ITEMS = f"/listings/2021-08-01/items/{SELLER}"
MUG = {
    "productType": "HOME",
    "requirements": "LISTING",
    "attributes": {
        "item_name": [{"value": "Camp Mug", "marketplace_id": MARKETPLACE}],
        "brand": [{"value": "Nexo Outdoors", "marketplace_id": MARKETPLACE}],
        "supplier_declared_has_product_identifier_exemption": [
            {"value": True, "marketplace_id": MARKETPLACE}
        ],
        "purchasable_offer": [
            {"marketplace_id": MARKETPLACE, "currency": "USD", "audience": "ALL",
             "our_price": [{"schedule": [{"value_with_tax": 9.5}]}]}
        ],
        "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
    },
}  # fmt: skip


SANDBOX_KEYS = SqsKeys()
KEYS = AwsCredentials(SANDBOX_KEYS.access_key_id, SANDBOX_KEYS.secret_access_key,
                      SANDBOX_KEYS.region, "sqs")  # fmt: skip


class Account:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sandbox = AmazonSandbox(seller_id=SELLER, marketplace_id=MARKETPLACE,
                                     clock=lambda: self.now)  # fmt: skip
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(self.sandbox.app), base_url=API)
        self.token = ""

    async def authorise(self) -> None:
        answer = await self.http.post("/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-refresh-token",
            "client_id": "amzn1.application-oa2-client.sandbox",
            "client_secret": "sandbox-client-secret",
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return await self.http.request(
            method, path, params={"marketplaceIds": MARKETPLACE, **params},
            content=json.dumps(body).encode() if body is not None else None,
            headers={"x-amz-access-token": self.token},
        )  # fmt: skip

    def later(self, seconds: float = 5.0) -> None:
        self.now += seconds


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    made = Account()
    await made.authorise()
    yield made
    await made.http.aclose()


@pytest.mark.parametrize(
    ("method", "path", "body", "wrong"),
    [
        ("PUT", f"{ITEMS}/MUG", {"requirements": "LISTING", "attributes": {}}, "productType"),
        ("PUT", f"{ITEMS}/MUG", {**MUG, "requirements": "EVERYTHING"}, "EVERYTHING"),
        ("PATCH", f"{ITEMS}/MUG", {"productType": "HOME", "patches": []}, "patches"),
        ("PATCH", f"{ITEMS}/MUG",
         {"productType": "HOME", "patches": [{"op": "move", "path": "/attributes/x"}]}, "move"),
        ("POST", "/feeds/2021-06-30/feeds", {"feedType": "JSON_LISTINGS_FEED"},
         "inputFeedDocumentId"),
        ("POST", "/orders/v0/orders/114-1/shipmentConfirmation", {"marketplaceId": MARKETPLACE},
         "packageDetail"),
    ],
)  # fmt: skip
async def test_a_body_the_model_refuses_is_refused_and_changes_nothing(
    account: Account, method: str, path: str, body: Any, wrong: str
) -> None:
    answer = await account.call(method, path, body)

    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert wrong in error["message"]
    account.later()
    assert account.sandbox.seller.listings.items == {}
    assert account.sandbox.seller.feeds.feeds == {}
    assert account.sandbox.violations == []


async def test_every_answer_of_a_listing_life_validates_against_its_schema(
    account: Account,
) -> None:
    put = await account.call("PUT", f"{ITEMS}/MUG", MUG)
    assert (put.status_code, put.json()["status"]) == (200, "ACCEPTED")
    early = await account.call("GET", f"{ITEMS}/MUG")
    assert early.status_code == 404  # accepted is queued, not applied
    account.later()
    patch = {"productType": "HOME", "patches": [{"op": "replace",
             "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]}  # fmt: skip
    assert (await account.call("PATCH", f"{ITEMS}/MUG", patch)).json()["status"] == "ACCEPTED"
    account.later()
    every = "summaries,attributes,issues,offers,fulfillmentAvailability,relationships"
    shown = await account.call("GET", f"{ITEMS}/MUG", includedData=every)
    found = await account.call("GET", ITEMS, identifiers="MUG", identifiersType="SKU",
                               includedData=every)  # fmt: skip
    gone = await account.call("DELETE", f"{ITEMS}/MUG")

    assert shown.json()["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 7}
    ]
    assert shown.json()["offers"][0]["price"] == {"currencyCode": "USD", "amount": "9.5"}
    assert found.json()["items"] == [shown.json()]
    assert gone.json()["status"] == "ACCEPTED"
    assert account.sandbox.violations == []
    checked = {c["operation"] for c in account.sandbox.calls if c["status"] < 300}
    assert checked == {"putListingsItem", "patchListingsItem", "getListingsItem",
                       "searchListingsItems", "deleteListingsItem"}  # fmt: skip


async def test_an_invalid_listing_is_answered_200_with_its_issues_by_attribute(
    account: Account,
) -> None:
    too_long = {**MUG["attributes"], "item_name": [{"value": "x" * 201}]}  # type: ignore[dict-item]
    answer = await account.call("PUT", f"{ITEMS}/MUG", {**MUG, "attributes": too_long})

    assert answer.status_code == 200
    assert answer.json()["status"] == "INVALID"
    assert [(i["code"], i["attributeNames"]) for i in answer.json()["issues"]] == [
        ("8560", ["item_name"])
    ]
    account.later()
    assert account.sandbox.seller.listings.items == {}
    preview = await account.call("PUT", f"{ITEMS}/MUG", MUG, mode="VALIDATION_PREVIEW")
    assert preview.json()["status"] == "VALID"
    account.later()
    assert account.sandbox.seller.listings.items == {}


async def test_a_feed_runs_its_state_machine_and_reports_against_the_report_schema(
    account: Account,
) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    document = {
        "header": {"sellerId": SELLER, "version": "2.0",
                   "report": {"includedData": ["fulfillmentAvailability"],
                              "apiVersion": "2021-08-01"}},
        "messages": [
            {"messageId": 1, "sku": "MUG", "operationType": "PATCH", "productType": "HOME",
             "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                          "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}]}]},
            {"messageId": 2, "sku": "NOPE", "operationType": "PATCH", "productType": "HOME",
             "patches": [{"op": "delete", "path": "/attributes/list_price"}]},
        ],
    }  # fmt: skip
    made = (await account.call("POST", "/feeds/2021-06-30/documents",
                               {"contentType": "application/json"})).json()  # fmt: skip
    assert (await account.http.put(made["url"], content=json.dumps(document))).status_code == 200
    feed = (await account.call("POST", "/feeds/2021-06-30/feeds", {
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": made["feedDocumentId"]})).json()  # fmt: skip
    states = [(await account.call("GET", f"/feeds/2021-06-30/feeds/{feed['feedId']}"))
              .json()["processingStatus"]]  # fmt: skip
    account.later()
    done = (await account.call("GET", f"/feeds/2021-06-30/feeds/{feed['feedId']}")).json()
    states.append(done["processingStatus"])
    result = (await account.call(
        "GET", f"/feeds/2021-06-30/documents/{done['resultFeedDocumentId']}")).json()  # fmt: skip
    report = json.loads(gzip.decompress((await account.http.get(result["url"])).content))

    assert states == ["IN_QUEUE", "DONE"]
    contract.check_document(contract.REPORT_SCHEMA, report, "report")
    assert report["summary"]["messagesAccepted"] == 1
    assert [(i["messageId"], i["severity"]) for i in report["issues"]] == [(2, "ERROR")]
    assert report["items"][0]["fulfillmentAvailability"][0]["quantity"] == 9
    assert account.sandbox.violations == []


async def test_a_feed_document_the_listings_feed_schema_refuses_is_fatal(
    account: Account,
) -> None:
    made = (await account.call("POST", "/feeds/2021-06-30/documents",
                               {"contentType": "application/json"})).json()  # fmt: skip
    wrong = {"header": {"sellerId": SELLER, "version": "1.0"}, "messages": []}
    await account.http.put(made["url"], content=json.dumps(wrong))
    feed = (await account.call("POST", "/feeds/2021-06-30/feeds", {
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": made["feedDocumentId"]})).json()  # fmt: skip
    account.later()

    done = (await account.call("GET", f"/feeds/2021-06-30/feeds/{feed['feedId']}")).json()
    assert done["processingStatus"] == "FATAL"


def test_the_response_check_refuses_what_the_model_refuses() -> None:
    with pytest.raises(contract.ContractViolation, match="status"):
        contract.check_response("putListingsItem", 200, {"sku": "MUG", "status": "DONE",
                                                          "submissionId": "1"})  # fmt: skip
    with pytest.raises(contract.ContractViolation, match="orders"):
        contract.check_response("searchOrders", 200, {"pagination": {}})
    empty = {
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0", "EventTime": "2026-01-01T00:00:00Z", "Payload": {},
        "NotificationMetadata": {"ApplicationId": "a", "SubscriptionId": "s",
                                 "PublishTime": "2026-01-01T00:00:00Z"},
    }  # fmt: skip
    with pytest.raises(contract.ContractViolation, match="OrderChangeNotification"):
        contract.check_document(contract.ORDER_CHANGE_SCHEMA, empty, "notification")


async def test_notifications_validate_and_a_duplicate_keeps_its_notification_id(
    account: Account,
) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    account.sandbox.faults.duplicate_webhooks = 1.0
    order_id = account.sandbox.place_order([("MUG", 2)])

    received = await SqsQueue(account.http, f"{API}/sqs", KEYS).receive()
    bodies = [json.loads(m.body) for m in received]
    orders = [b for b in bodies if b["NotificationType"] == "ORDER_CHANGE"]
    assert [b["Payload"]["OrderChangeNotification"]["AmazonOrderId"] for b in orders] == [
        order_id,
        order_id,
    ]
    assert len({b["NotificationMetadata"]["NotificationId"] for b in orders}) == 1
    for body in bodies:
        schema = (contract.ORDER_CHANGE_SCHEMA if body["NotificationType"] == "ORDER_CHANGE"
                  else contract.QUANTITY_CHANGE_SCHEMA)  # fmt: skip
        contract.check_document(schema, body, "notification")
    assert account.sandbox.violations == []


async def test_fba_inventory_summaries_page_by_50_against_the_model(account: Account) -> None:
    fba = account.sandbox.seller.fba
    for n in range(60):
        fba.receive(f"FBA-{n:02d}", n + 1)
    path = "/fba/inventory/v1/summaries"
    asked = {"granularityType": "Marketplace", "granularityId": MARKETPLACE, "details": "true"}

    first = (await account.call("GET", path, **asked)).json()
    second = (await account.call("GET", path, nextToken=first["pagination"]["nextToken"],
                                 **asked)).json()  # fmt: skip
    throttled = await account.call("GET", path, **asked)  # burst 2
    account.later(1.0)  # 2 a second
    some = (await account.call("GET", path, sellerSkus="FBA-03,FBA-07", **asked)).json()
    refused = await account.call("GET", path, granularityId=MARKETPLACE)

    summaries = first["payload"]["inventorySummaries"] + second["payload"]["inventorySummaries"]
    assert len(first["payload"]["inventorySummaries"]) == 50
    assert "pagination" not in second
    assert {s["sellerSku"]: s["inventoryDetails"]["fulfillableQuantity"] for s in summaries} == {
        f"FBA-{n:02d}": n + 1 for n in range(60)
    }
    assert [s["sellerSku"] for s in some["payload"]["inventorySummaries"]] == ["FBA-03", "FBA-07"]
    assert throttled.status_code == 429
    assert refused.status_code == 400
    assert account.sandbox.violations == []
    contract.check_response("getInventorySummaries", 200, first)


async def test_an_afn_order_reserves_fba_units_and_a_cancellation_gives_them_back(
    account: Account,
) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    account.sandbox.seller.fba.receive("MUG", 5)

    order = account.sandbox.seller.place_order([("MUG", 2)], fulfilled_by="AMAZON")
    held = account.sandbox.seller.fba.units["MUG"]
    reserved = (held.fulfillable, held.pending)
    account.sandbox.seller.cancel_order(order)

    assert reserved == (3, 2)
    assert (held.fulfillable, held.pending) == (5, 0)
    assert account.sandbox.seller.listings.items["MUG"].quantity == 3  # merchant stock untouched


def test_the_fba_model_refuses_what_the_official_model_refuses() -> None:
    wrong = {"payload": {"granularity": {}, "inventorySummaries": [{"totalQuantity": "7"}]}}
    with pytest.raises(contract.ContractViolation, match="totalQuantity"):
        contract.check_response("getInventorySummaries", 200, wrong)
    with pytest.raises(contract.ContractViolation, match="inventorySummaries"):
        contract.check_response("getInventorySummaries", 200, {"payload": {"granularity": {}}})


async def test_orders_v0_list_one_order_and_its_items_against_the_v0_model(
    account: Account,
) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    seller = account.sandbox.seller
    first = seller.place_order([("MUG", 1)], ship_to={"city": "Seattle", "countryCode": "US",
                                                      "postalCode": "98101"})  # fmt: skip
    account.later()
    second = seller.place_order([("MUG", 2)])
    v0 = {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2020-01-01T00:00:00Z"}

    page = (await account.call("GET", "/orders/v0/orders", MaxResultsPerPage=1, **v0)).json()
    token = page["payload"]["NextToken"]
    account.later()
    rest = (await account.call("GET", "/orders/v0/orders", MarketplaceIds=MARKETPLACE,
                               NextToken=token)).json()  # fmt: skip
    account.later()
    one = (await account.call("GET", f"/orders/v0/orders/{first}")).json()
    items = (await account.call("GET", f"/orders/v0/orders/{second}/orderItems")).json()
    unknown = await account.call("GET", "/orders/v0/orders/114-0000000-0000000")
    no_since = await account.call("GET", "/orders/v0/orders", MarketplaceIds=MARKETPLACE)

    assert [o["AmazonOrderId"] for o in page["payload"]["Orders"]] == [first]
    assert [o["AmazonOrderId"] for o in rest["payload"]["Orders"]] == [second]
    assert "NextToken" not in rest["payload"]
    assert one["payload"]["OrderStatus"] == "Unshipped"
    assert one["payload"]["FulfillmentChannel"] == "MFN"
    assert one["payload"]["ShippingAddress"] == {"City": "Seattle", "PostalCode": "98101",
                                                 "CountryCode": "US"}  # fmt: skip
    [item] = items["payload"]["OrderItems"]
    assert (item["SellerSKU"], item["QuantityOrdered"]) == ("MUG", 2)
    assert unknown.status_code == 404
    assert no_since.status_code == 400
    assert account.sandbox.violations == []
    contract.check_response("v0.getOrders", 200, page)
    contract.check_response("v0.getOrderItems", 200, items)


async def test_the_queue_takes_a_request_signed_with_its_keys(account: Account) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    account.sandbox.place_order([("MUG", 1)])
    queue = SqsQueue(account.http, f"{API}/sqs", KEYS)

    received = await queue.receive()
    assert {json.loads(m.body)["NotificationType"] for m in received} >= {"ORDER_CHANGE"}
    await queue.delete([m.receipt for m in received])
    assert account.sandbox.seller.queue.messages == []


async def sqs_post(account: Account, keys: AwsCredentials, *, tamper: bool = False) -> Any:
    body = json.dumps({"QueueUrl": f"{API}/sqs", "MaxNumberOfMessages": 10}).encode()
    headers = {"X-Amz-Target": "AmazonSQS.ReceiveMessage",
               "Content-Type": "application/x-amz-json-1.0"}  # fmt: skip
    signed = sign(keys, "POST", f"{API}/sqs", headers, body, datetime.now(UTC))
    sent = body.replace(b"10", b"9") if tamper else body
    return await account.http.post("/sqs", content=sent, headers=signed)


@pytest.mark.parametrize(
    ("keys", "tamper", "code"),
    [
        (AwsCredentials(KEYS.access_key_id, "not-the-secret", "us-east-1", "sqs"), False,
         "SignatureDoesNotMatch"),
        (KEYS, True, "SignatureDoesNotMatch"),  # the body is not the one signed
        (AwsCredentials(KEYS.access_key_id, KEYS.secret_access_key, "eu-west-1", "sqs"), False,
         "SignatureDoesNotMatch"),  # scoped to another region
        (AwsCredentials("AKIAUNKNOWNKEY000000", KEYS.secret_access_key, "us-east-1", "sqs"),
         False, "InvalidClientTokenId"),
    ],
)  # fmt: skip
async def test_a_wrongly_signed_queue_request_is_refused_as_sqs_refuses_it(
    account: Account, keys: AwsCredentials, tamper: bool, code: str
) -> None:
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()
    account.sandbox.place_order([("MUG", 1)])
    waiting = len(account.sandbox.seller.queue.messages)

    answer = await sqs_post(account, keys, tamper=tamper)
    assert answer.status_code == 403
    assert answer.json()["__type"].endswith(f"#{code}")
    unsigned = await account.http.post(
        "/sqs", json={"QueueUrl": f"{API}/sqs"},
        headers={"X-Amz-Target": "AmazonSQS.ReceiveMessage"},
    )  # fmt: skip
    assert unsigned.status_code == 403
    assert unsigned.json()["__type"].endswith("#MissingAuthenticationToken")
    # Nothing was received: every message is still visible to the right keys.
    assert account.sandbox.seller.queue.visible() == waiting
    if not tamper:  # the hub's reader says why, and does not retry wrong keys
        with pytest.raises(ChannelMisconfigured, match=code):
            await SqsQueue(account.http, f"{API}/sqs", keys).receive()
