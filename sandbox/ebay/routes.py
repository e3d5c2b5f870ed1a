"""The operations the sandbox carries out, by (method, the spec's path): each takes a `Call`
(already authenticated, metered and validated) and gives (status, body, headers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.ebay.errors import FULFILLMENT, NOTIFICATION, EbayError, error, refused
from sandbox.ebay.orders import DEFAULT_LIMIT, MAX_LIMIT

if TYPE_CHECKING:
    from sandbox.ebay.app import Call, EbaySandbox, Handler

Answer = tuple[int, Any, dict[str, str]]
INVENTORY_BASE = "/sell/inventory/v1"
FULFILLMENT_BASE = "/sell/fulfillment/v1"


class Routes:
    def __init__(self, sandbox: EbaySandbox) -> None:
        self.store, self.orders = sandbox.store, sandbox.orders
        self.notifier = sandbox.notifier

    async def put_item(self, call: Call) -> Answer:
        self.store.put_item(call.params["sku"], call.body)
        return 204, None, {}

    async def get_item(self, call: Call) -> Answer:
        return 200, self.store.item_shown(call.params["sku"]), {}

    async def delete_item(self, call: Call) -> Answer:
        self.store.delete_item(call.params["sku"])
        return 204, None, {}

    async def bulk_get(self, call: Call) -> Answer:
        responses = []
        for request in call.body.get("requests") or []:
            sku = str(request.get("sku", ""))
            try:
                responses.append({"statusCode": 200, "sku": sku,
                                  "inventoryItem": self.store.item_shown(sku)})  # fmt: skip
            except EbayError as failure:
                responses.append({"statusCode": failure.status, "sku": sku,
                                  "errors": failure.errors})  # fmt: skip
        return _multi(responses), {"responses": responses}, {}

    async def put_group(self, call: Call) -> Answer:
        self.store.put_group(call.params["inventoryItemGroupKey"], call.body)
        return 204, None, {}

    async def get_group(self, call: Call) -> Answer:
        return 200, self.store.group(call.params["inventoryItemGroupKey"]), {}

    async def bulk_price_quantity(self, call: Call) -> Answer:
        requests = call.body.get("requests") or []
        if not requests or len(requests) > 25:
            raise refused(400, 25709, "Between 1 and 25 requests can be sent at once")
        responses = self.store.update_price_quantity(requests)
        return _multi(responses), {"responses": responses}, {}

    async def create_offer(self, call: Call) -> Answer:
        return 201, {"offerId": self.store.create_offer(call.body).offer_id}, {}

    async def get_offers(self, call: Call) -> Answer:
        sku = call.query.get("sku")
        if not sku:
            raise refused(400, 25709, "Invalid value for sku")
        found = self.store.offers_of(sku, call.query.get("marketplace_id"))
        body = {"href": f"{INVENTORY_BASE}/offer?sku={sku}", "limit": 100, "size": len(found),
                "total": len(found), "offers": [o.shown() for o in found]}  # fmt: skip
        return 200, body, {}

    async def get_offer(self, call: Call) -> Answer:
        return 200, self.store.offer(call.params["offerId"]).shown(), {}

    async def update_offer(self, call: Call) -> Answer:
        self.store.update_offer(call.params["offerId"], call.body)
        return 204, None, {}

    async def publish_offer(self, call: Call) -> Answer:
        return 200, {"listingId": self.store.publish_offer(call.params["offerId"])}, {}

    async def publish_group(self, call: Call) -> Answer:
        listing = self.store.publish_group(
            str(call.body.get("inventoryItemGroupKey", "")), str(call.body.get("marketplaceId"))
        )
        return 200, {"listingId": listing}, {}

    async def withdraw_offer(self, call: Call) -> Answer:
        listing = self.store.withdraw_offer(call.params["offerId"])
        return 200, {"listingId": listing} if listing else {}, {}

    async def withdraw_group(self, call: Call) -> Answer:
        self.store.withdraw_group(
            str(call.body.get("inventoryItemGroupKey", "")), str(call.body.get("marketplaceId"))
        )
        return 204, None, {}

    async def get_orders(self, call: Call) -> Answer:
        ids = call.query.get("orderIds")
        if ids:
            found = [self.orders.get(i) for i in ids.split(",")[:50] if i in self.orders.orders]
            found_body = {"href": f"{FULFILLMENT_BASE}/order?orderIds={ids}", "total": len(found),
                    "limit": len(found), "offset": 0,
                    "orders": [o.shown() for o in found]}  # fmt: skip
            return 200, found_body, {}
        limit = _int(call.query.get("limit"), DEFAULT_LIMIT)
        offset = _int(call.query.get("offset"), 0)
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise refused(400, 30700, "Invalid limit or offset", domain=FULFILLMENT)
        page, total = self.orders.search(call.query.get("filter"), limit, offset)
        href = f"{FULFILLMENT_BASE}/order?limit={limit}&offset={offset}"
        body: dict[str, Any] = {"href": href, "total": total, "limit": limit, "offset": offset,
                                "orders": [o.shown() for o in page]}  # fmt: skip
        if offset + limit < total:
            body["next"] = f"{FULFILLMENT_BASE}/order?limit={limit}&offset={offset + limit}"
        return 200, body, {}

    async def get_order(self, call: Call) -> Answer:
        return 200, self.orders.get(call.params["orderId"]).shown(), {}

    async def ship(self, call: Call) -> Answer:
        order_id = call.params["orderId"]
        done = self.orders.ship(order_id, call.body)
        location = f"{FULFILLMENT_BASE}/order/{order_id}/shipping_fulfillment/{done.fulfillment_id}"
        return 201, {}, {"Location": location}

    async def fulfillments(self, call: Call) -> Answer:
        order = self.orders.get(call.params["orderId"])
        shown = [order.fulfillment_shown(f) for f in order.fulfillments]
        return 200, {"fulfillments": shown, "total": len(shown)}, {}

    async def refund(self, call: Call) -> Answer:
        refund_id = self.orders.refund(call.params["order_id"], call.body)
        return 200, {"refundId": refund_id, "refundStatus": "PENDING"}, {}

    async def public_key(self, call: Call) -> Answer:
        if call.params["public_key_id"] != self.notifier.kid:
            raise EbayError(404, [error(195001, "The public key was not found",
                                        domain=NOTIFICATION)])  # fmt: skip
        return 200, self.notifier.public_key(), {}

    def table(self) -> dict[tuple[str, str], Handler]:
        return {
            ("PUT", "/inventory_item/{sku}"): self.put_item,
            ("GET", "/inventory_item/{sku}"): self.get_item,
            ("DELETE", "/inventory_item/{sku}"): self.delete_item,
            ("POST", "/bulk_get_inventory_item"): self.bulk_get,
            ("PUT", "/inventory_item_group/{inventoryItemGroupKey}"): self.put_group,
            ("GET", "/inventory_item_group/{inventoryItemGroupKey}"): self.get_group,
            ("POST", "/bulk_update_price_quantity"): self.bulk_price_quantity,
            ("POST", "/offer"): self.create_offer,
            ("GET", "/offer"): self.get_offers,
            ("GET", "/offer/{offerId}"): self.get_offer,
            ("PUT", "/offer/{offerId}"): self.update_offer,
            ("POST", "/offer/{offerId}/publish"): self.publish_offer,
            ("POST", "/offer/publish_by_inventory_item_group"): self.publish_group,
            ("POST", "/offer/{offerId}/withdraw"): self.withdraw_offer,
            ("POST", "/offer/withdraw_by_inventory_item_group"): self.withdraw_group,
            ("GET", "/order"): self.get_orders,
            ("GET", "/order/{orderId}"): self.get_order,
            ("POST", "/order/{orderId}/shipping_fulfillment"): self.ship,
            ("GET", "/order/{orderId}/shipping_fulfillment"): self.fulfillments,
            ("POST", "/order/{order_id}/issue_refund"): self.refund,
            ("GET", "/public_key/{public_key_id}"): self.public_key,
        }


def _multi(responses: list[dict[str, Any]]) -> int:
    """A bulk call: 200 when every entry succeeded, else 207 (multi-status)."""
    return 200 if all(r.get("statusCode") == 200 for r in responses) else 207


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise refused(400, 30700, f"Invalid number {value!r}", domain=FULFILLMENT) from None
