"""What one Amazon seller account holds: listings, orders, feeds, tokens, the notification
queue; and what its buyers and its seller do outside the API (orders, cancellations, edits)."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from sandbox.amazon import contract
from sandbox.amazon.fba import FbaInventory
from sandbox.amazon.feeds import Feed, Feeds, Run
from sandbox.amazon.listings import (
    Item,
    Listings,
    apply_patches,
    attribute_issues,
    issue,
    put_issues,
)
from sandbox.amazon.orders import Line, Order, Package, iso, quantity_change
from sandbox.amazon.queue import NotificationQueue
from sandbox.amazon.reports import Report, Reports
from sandbox.shopify.faults import Faults

TOKEN_SECONDS = 3600


@dataclass
class Bucket:
    """One operation's token bucket, as Amazon documents it (rate per second, burst)."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        # A millisecond's slack: times are epoch seconds in floats, and a caller pacing
        # itself by the documented rate must not be refused for a rounding error.
        if self.tokens >= 1.0 - self.rate * 0.001:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Seller:
    seller_id: str
    marketplace_id: str
    currency: str
    client_id: str
    client_secret: str
    refresh_token: str
    clock: Callable[[], float]
    faults: Faults
    apply_delay: float
    feed_rate: float
    seed: int | None = None
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    token_grants: int = 0
    orders: dict[str, Order] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # Multiplies every documented rate (and says so in x-amzn-RateLimit-Limit): for a bench's
    # setup only, so that listing 20,000 SKUs does not take an hour; 1 is Amazon's.
    rate_scale: float = 1.0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.queue = NotificationQueue(self.clock)
        self.listings = Listings(self.clock, self.apply_delay, self._quantity_moved)
        self.fba = FbaInventory(self.clock)
        self.feeds = Feeds(self.clock, messages_per_second=self.feed_rate)
        self.reports = Reports(self.clock)

    # Auth ------------------------------------------------------------------------------------

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Login with Amazon's refresh-token grant."""
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "unsupported"}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, _lwa_error("invalid_client", "Client authentication failed")
        if form.get("refresh_token") != self.refresh_token:
            return 400, _lwa_error("invalid_grant", "The request has an invalid grant parameter")
        token = "Atza|" + secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + TOKEN_SECONDS
        self.token_grants += 1
        return 200, {
            "access_token": token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
        }

    def token_valid(self, token: str | None) -> bool:
        expiry = self.tokens.get(token or "")
        return expiry is not None and expiry > self.clock()

    def throttled(self, operation: str) -> bool:
        op = contract.operations()[operation]
        bucket = self.buckets.get(operation)
        now = self.clock()
        if bucket is None:
            bucket = self.buckets[operation] = Bucket(op.rate, op.burst, op.burst, now)
        bucket.rate = op.rate * self.rate_scale
        return not bucket.take(now)

    # Time ------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Whatever is due by now happens: queued listing changes, finished feeds and reports."""
        self.listings.settle()
        for feed in self.feeds.processing():
            if feed.feed_type == "JSON_LISTINGS_FEED":
                self._advance(feed, feed.reached(self.clock(), len(self._run(feed).messages)))
        for feed in self.feeds.due():
            self._finish(feed)
        for report in self.reports.due():
            self._finish_report(report)

    # Notifications ---------------------------------------------------------------------------

    def publish(self, notification: dict[str, Any], schema: str) -> None:
        try:
            contract.check_document(schema, notification, "notification")
        except contract.ContractViolation as violation:
            self.violations.append(str(violation))
        self.queue.publish(notification, drop=self.faults.drop(), duplicate=self.faults.duplicate())

    def _quantity_moved(self, item: Item, _before: int | None) -> None:
        if item.quantity is None:
            return
        now = self.clock()
        notification = quantity_change(
            self.seller_id, item.sku, item.quantity, str(uuid.uuid4()), now
        )
        self.publish(notification, contract.QUANTITY_CHANGE_SCHEMA)

    def _order_changed(self, order: Order, reason: str) -> None:
        notification = order.order_change(self.seller_id, reason, str(uuid.uuid4()), self.clock())
        self.publish(notification, contract.ORDER_CHANGE_SCHEMA)

    # Buyers and the seller, outside the API -----------------------------------------------

    def place_order(
        self,
        lines: list[tuple[str, int]],
        *,
        fulfilled_by: str = "MERCHANT",
        ship_to: dict[str, str] | None = None,
    ) -> str:
        """A buyer orders (to `ship_to`, a CustomerAddress, when given); merchant-fulfilled
        lines take what the listing's quantity allows."""
        self.settle()
        now = self.clock()
        taken: list[Line] = []
        for n, (sku, wanted) in enumerate(lines, start=1):
            item = self.listings.items.get(sku)
            offer = item.offer if item else None
            if item is None or offer is None:
                continue
            quantity = wanted
            if fulfilled_by == "MERCHANT":
                quantity = min(wanted, item.quantity or 0)
                if quantity <= 0:
                    continue
                self.listings.set_quantity(sku, (item.quantity or 0) - quantity)
            else:  # Amazon ships it: what its centres hold is reserved for the buyer
                self.fba.reserve(sku, quantity)
            item_id = f"{self.random.randrange(10**13):013d}{n}"
            taken.append(Line(item_id, sku, quantity, offer[1], offer[0]))
        if not taken:
            raise ValueError(f"nothing of {lines} can be bought")
        order = Order(Order.new_id(self.random), self.marketplace_id, fulfilled_by, now, now, taken,
                      ship_to=ship_to)  # fmt: skip
        self.orders[order.order_id] = order
        self._order_changed(order, "NewOrder")
        return order.order_id

    def cancel_order(self, order_id: str, *, by: str = "BUYER") -> None:
        order = self.orders[order_id]
        self.settle()
        for line in order.lines:
            left = line.unshipped
            line.cancelled += left
            item = self.listings.items.get(line.sku)
            if left and order.fulfilled_by == "MERCHANT" and item is not None:
                self.listings.set_quantity(line.sku, (item.quantity or 0) + left)
            held = self.fba.units.get(line.sku)
            if left and order.fulfilled_by != "MERCHANT" and held is not None:
                self.fba.give_back(line.sku, min(left, held.pending))
        order.cancelled = True
        order.updated = self.clock()
        self._order_changed(order, f"{by} cancelled")

    def edit(self, sku: str, *, quantity: int | None, price: Decimal | None) -> None:
        """The seller changes the item in Seller Central."""
        self.settle()
        item = self.listings.items[sku]
        if price is not None:
            for offer in item.attributes.get("purchasable_offer") or ():
                offer["our_price"] = [{"schedule": [{"value_with_tax": float(price)}]}]
        if quantity is not None:
            self.listings.set_quantity(sku, quantity)

    # Listings API ----------------------------------------------------------------------------

    def put(self, sku: str, body: dict[str, Any], preview: bool) -> dict[str, Any]:
        attrs = body.get("attributes") or {}
        issues = put_issues(sku, body["productType"], body.get("requirements", "LISTING"), attrs)
        answer = {"sku": sku, "submissionId": uuid.uuid4().hex, "issues": issues}
        if any(i["severity"] == "ERROR" for i in issues):
            return {**answer, "status": "INVALID"}
        if preview:
            return {**answer, "status": "VALID"}
        product_type, attributes = body["productType"], copy.deepcopy(attrs)
        answer["submissionId"] = self.listings.submit(
            lambda: self.listings.put(sku, product_type, attributes)
        )
        return {**answer, "status": "ACCEPTED"}

    def patch(self, sku: str, body: dict[str, Any], preview: bool) -> dict[str, Any] | None:
        item = self.listings.items.get(sku)
        if item is None:
            return None
        trial = dict(item.attributes)  # patches replace attributes, never change one in place
        issues = apply_patches(trial, body["patches"]) + attribute_issues(trial)
        answer = {"sku": sku, "submissionId": uuid.uuid4().hex, "issues": issues}
        if any(i["severity"] == "ERROR" for i in issues):
            return {**answer, "status": "INVALID"}
        if preview:
            return {**answer, "status": "VALID"}
        patches = copy.deepcopy(body["patches"])
        answer["submissionId"] = self.listings.submit(lambda: self.listings.patch(sku, patches))
        return {**answer, "status": "ACCEPTED"}

    def delete(self, sku: str) -> dict[str, Any] | None:
        if sku not in self.listings.items:
            return None
        submission = self.listings.submit(lambda: self.listings.delete(sku))
        return {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}

    def item_view(self, item: Item, included: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {"sku": item.sku}
        if "summaries" in included:
            summary = {
                "marketplaceId": self.marketplace_id,
                "asin": item.asin,
                "productType": item.product_type,
                "conditionType": "new_new",
                "status": [] if item.is_parent else ["BUYABLE", "DISCOVERABLE"],
                "itemName": item.title,
                "createdDate": iso(item.created),
                "lastUpdatedDate": iso(item.updated),
            }
            found["summaries"] = [summary]
        if "attributes" in included:
            found["attributes"] = copy.deepcopy(item.attributes)
        if "issues" in included:
            found["issues"] = []
        if "offers" in included:
            offer = item.offer
            found["offers"] = (
                [
                    {
                        "marketplaceId": self.marketplace_id,
                        "offerType": "B2C",
                        "price": {"currencyCode": offer[0], "amount": str(offer[1])},
                        "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
                    }
                ]
                if offer
                else []
            )
        if "fulfillmentAvailability" in included:
            found["fulfillmentAvailability"] = (
                [{"fulfillmentChannelCode": "DEFAULT", "quantity": item.quantity}]
                if item.quantity is not None
                else []
            )
        if "relationships" in included:
            relations: list[dict[str, Any]] = []
            if item.parent_sku:
                relations.append({"type": "VARIATION", "parentSkus": [item.parent_sku]})
            if item.is_parent:
                children = [i.sku for i in self.listings.items.values() if i.parent_sku == item.sku]
                relations.append({"type": "VARIATION", "childSkus": children})
            found["relationships"] = [
                {"marketplaceId": self.marketplace_id, "relationships": relations}
            ]
        return found

    # Orders API ------------------------------------------------------------------------------

    def confirm_shipment(
        self, order_id: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        order = self.orders.get(order_id)
        if order is None:
            return 404, _errors("NotFound", f"Order {order_id} not found")
        if order.fulfilled_by != "MERCHANT":
            return 400, _errors("InvalidInput", "Amazon fulfils this order (AFN)")
        if body.get("marketplaceId") != order.marketplace_id:
            return 400, _errors("InvalidInput", "marketplaceId does not match the order")
        package = body["packageDetail"]
        earlier = next(
            (p for p in order.packages if p.reference == str(package["packageReferenceId"])), None
        )
        if earlier is not None:  # the same package confirmed again: nothing more to do
            return 204, None
        wanted = [(str(i["orderItemId"]), int(i["quantity"])) for i in package["orderItems"]]
        for item_id, quantity in wanted:
            line = order.line(item_id)
            if line is None:
                return 400, _errors("InvalidInput", f"orderItemId {item_id} is not in the order")
            if quantity < 1 or quantity > line.unshipped:
                return 400, _errors(
                    "InvalidInput", f"orderItemId {item_id}: {line.unshipped} left to ship"
                )
        for item_id, quantity in wanted:
            line = order.line(item_id)
            assert line is not None
            line.shipped += quantity
        order.packages.append(
            Package(
                str(package["packageReferenceId"]), str(package["carrierCode"]),
                str(package["trackingNumber"]), wanted,
            )
        )  # fmt: skip
        order.updated = self.clock()
        self._order_changed(order, "Shipment confirmed")
        return 204, None

    # Reports ---------------------------------------------------------------------------------

    def _finish_report(self, report: Report) -> None:
        """The report's document, built as it ends and checked against the report's schema."""
        document = self.reports.document(report, self.orders.values(), self._asin, self.currency)
        if document is not None:
            try:
                contract.check_document(
                    contract.SALES_AND_TRAFFIC_SCHEMA, document, "GET_SALES_AND_TRAFFIC_REPORT"
                )
            except contract.ContractViolation as violation:
                self.violations.append(str(violation))
        self.reports.finish(report, document)

    def _asin(self, sku: str) -> str:
        item = self.listings.items.get(sku)
        return item.asin if item else "B0" + hashlib.sha1(sku.encode()).hexdigest()[:8].upper()

    # Feeds -----------------------------------------------------------------------------------

    def _finish(self, feed: Feed) -> None:
        document = self.feeds.documents.get(feed.document_id)
        content = document.content if document else None
        if feed.feed_type == "JSON_LISTINGS_FEED":
            run = self._run(feed)
            self._advance(feed, len(run.messages))
            raw = json.dumps(self._listings_report(feed, run)).encode()
        else:
            raw = self._acknowledgement_feed(feed, content)
        result = self.feeds.new_document("application/json")
        result.content, result.compressed = gzip.compress(raw), True
        feed.result_document_id = result.document_id
        feed.status = "FATAL" if feed.run is not None and feed.run.fatal else "DONE"

    def _run(self, feed: Feed) -> Run:
        """The feed's processing, opened on its document the first time (an envelope the
        schema refuses is fatal before any message)."""
        if feed.run is not None:
            return feed.run
        document = self.feeds.documents.get(feed.document_id)
        try:
            parsed = json.loads((document.content if document else None) or b"")
            contract.check_feed_envelope(parsed)
        except (ValueError, contract.ContractViolation) as error:
            feed.run = Run({}, [], fatal=str(error))
            return feed.run
        feed.run = Run(parsed["header"], parsed["messages"])
        return feed.run

    def _advance(self, feed: Feed, upto: int) -> None:
        """Process the feed's messages up to `upto`, in order."""
        run = self._run(feed)
        while run.done < upto and run.fatal is None:
            message = run.messages[run.done]
            try:
                contract.check_feed_message(message, run.done)
            except contract.ContractViolation as error:
                run.fatal = str(error)
                return
            found = self._feed_message(message)
            run.issues += [_report_issue(message, found_issue) for found_issue in found]
            if not any(i["severity"] == "ERROR" for i in found):
                run.accepted.append(message["sku"])
                self._report_item(run, message["sku"])
            run.done += 1

    def _listings_report(self, feed: Feed, run: Run) -> dict[str, Any]:
        if run.fatal is not None:
            return _fatal_report(feed, run.fatal)
        issues, accepted = run.issues, run.accepted
        report: dict[str, Any] = {
            "header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed.feed_id},
            "issues": issues,
            "summary": {
                "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
                "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                "messagesProcessed": len(run.messages),
                "messagesAccepted": len(accepted),
                "messagesInvalid": len(run.messages) - len(accepted),
            },
        }
        if (run.header.get("report") or {}).get("includedData"):
            report["header"]["report"] = run.header["report"]
            report["items"] = run.items
        return report

    def _report_item(self, run: Run, sku: str) -> None:
        """The item as the message left it, for a report that asks for items (`includedData`)."""
        wanted = (run.header.get("report") or {}).get("includedData")
        if wanted and sku in self.listings.items:
            run.items.append(self.item_view(self.listings.items[sku], wanted))

    def _feed_message(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        sku, operation = message["sku"], message["operationType"]
        item = self.listings.items.get(sku)
        if operation == "DELETE":
            self.listings.delete(sku)
            return []
        if operation in ("PATCH", "PARTIAL_UPDATE"):
            if item is None:
                return [issue("4000004", f"SKU '{sku}' is not a listings item of this seller")]
            patches = message.get("patches") or [
                {"op": "replace", "path": f"/attributes/{k}", "value": v}
                for k, v in (message.get("attributes") or {}).items()
            ]
            trial = dict(item.attributes)  # patches replace attributes, never change one in place
            found = apply_patches(trial, patches) + attribute_issues(trial)
            if not any(i["severity"] == "ERROR" for i in found):
                self.listings.patch(sku, patches)
            return found
        attrs = message.get("attributes") or {}
        found = put_issues(
            sku, message["productType"], message.get("requirements", "LISTING"), attrs
        )
        if not any(i["severity"] == "ERROR" for i in found):
            self.listings.put(sku, message["productType"], attrs)
        return found

    def _acknowledgement_feed(self, feed: Feed, content: bytes | None) -> bytes:
        """POST_ORDER_ACKNOWLEDGEMENT_DATA: StatusCode Failure with Items cancels those items
        (what is left of them); without Items, the whole order."""
        processed = failed = 0
        try:
            root = ElementTree.fromstring(content or b"")
        except ElementTree.ParseError:
            return _xml_report(feed, 0, 0, "the document is not XML")
        for message in root.iter("OrderAcknowledgement"):
            processed += 1
            order = self.orders.get(message.findtext("AmazonOrderID") or "")
            if order is None or message.findtext("StatusCode") != "Failure":
                failed += order is None
                continue
            codes = [i.findtext("AmazonOrderItemCode") for i in message.iter("Item")]
            self._cancel_items(order, [c for c in codes if c] or [ln.item_id for ln in order.lines])
        return _xml_report(feed, processed, failed, None)

    def _cancel_items(self, order: Order, item_ids: list[str]) -> None:
        moved = False
        for line in order.lines:
            if line.item_id in item_ids and line.unshipped:
                line.cancelled += line.unshipped
                moved = True
        if moved:
            order.updated = self.clock()
            self._order_changed(order, "Seller cancelled items")


def _report_issue(message: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """An issue as the processing report has it: per message, one attribute name."""
    names = found.get("attributeNames") or []
    made = {"messageId": message["messageId"], "sku": message["sku"], "code": found["code"],
            "severity": found["severity"], "message": found["message"]}  # fmt: skip
    return {**made, "attributeName": names[0]} if names else made


def _lwa_error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}]}


def _fatal_report(feed: Feed, why: str) -> dict[str, Any]:
    return {
        "header": {"sellerId": "unknown", "version": "2.0", "feedId": feed.feed_id},
        "issues": [{"code": "100001", "severity": "ERROR", "message": why[:500]}],
        "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0,
                    "messagesInvalid": 0},
    }  # fmt: skip


def _xml_report(feed: Feed, processed: int, failed: int, fatal: str | None) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header><DocumentVersion>1.02'
        "</DocumentVersion></Header><MessageType>ProcessingReport</MessageType><Message>"
        f"<MessageID>1</MessageID><ProcessingReport><DocumentTransactionID>{feed.feed_id}"
        "</DocumentTransactionID><StatusCode>Complete</StatusCode><ProcessingSummary>"
        f"<MessagesProcessed>{processed}</MessagesProcessed><MessagesSuccessful>"
        f"{processed - failed}</MessagesSuccessful><MessagesWithError>{failed + bool(fatal)}"
        "</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>"
        "</ProcessingReport></Message></AmazonEnvelope>"
    ).encode()
