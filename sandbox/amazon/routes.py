"""The Selling Partner API operations the sandbox serves: path → (operationId, handler).

Paths are matched on the raw (still percent-encoded) path: a seller SKU may hold a `/`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request

from sandbox.amazon.app import Answer, page_size
from sandbox.amazon.orders import Order
from sandbox.amazon.orders_v0 import order_items_v0, order_v0
from sandbox.amazon.reports import MAX_DAYS, REPORT_TYPE
from sandbox.amazon.store import Seller, _errors

if TYPE_CHECKING:
    from sandbox.amazon.app import AmazonSandbox

Handler = Callable[["AmazonSandbox", Request, Any], tuple[int, Any]]
LISTINGS = ("listings", "2021-08-01", "items")
FEEDS = ("feeds", "2021-06-30")
REPORTS = ("reports", "2021-06-30")
ORDERS = ("orders", "2026-01-01", "orders")
ORDERS_V0 = ("orders", "v0", "orders")
INCLUDED_DEFAULT = ["summaries"]


def route(request: Request) -> tuple[str, Handler]:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    parts = tuple(unquote(p) for p in raw.decode().split("?")[0].strip("/").split("/"))
    method = request.method
    if parts[:3] == LISTINGS and len(parts) == 5:
        found = {
            "PUT": ("putListingsItem", _put),
            "PATCH": ("patchListingsItem", _patch),
            "GET": ("getListingsItem", _get_item),
            "DELETE": ("deleteListingsItem", _delete),
        }.get(method)
        if found:
            return found
    if parts[:3] == LISTINGS and len(parts) == 4 and method == "GET":
        return "searchListingsItems", _search_items
    if parts[:2] == FEEDS:
        if parts[2:] == ("documents",) and method == "POST":
            return "createFeedDocument", _create_document
        if parts[2:] == ("feeds",) and method == "POST":
            return "createFeed", _create_feed
        if len(parts) == 4 and parts[2] == "feeds" and method == "GET":
            return "getFeed", _get_feed
        if len(parts) == 4 and parts[2] == "documents" and method == "GET":
            return "getFeedDocument", _get_document
    other = _reports_route(parts, method) or _orders_route(parts, method)
    if other is not None:
        return other
    if parts == ("fba", "inventory", "v1", "summaries") and method == "GET":
        return "getInventorySummaries", _inventory_summaries
    raise Answer(404, _errors("NotFound", f"no operation {method} {'/'.join(parts)}"))


def _reports_route(parts: tuple[str, ...], method: str) -> tuple[str, Handler] | None:
    if parts[:2] != REPORTS:
        return None
    if parts[2:] == ("reports",) and method == "POST":
        return "createReport", _create_report
    if len(parts) == 4 and parts[2] == "reports" and method == "GET":
        return "getReport", _get_report
    if len(parts) == 4 and parts[2] == "documents" and method == "GET":
        return "getReportDocument", _get_report_document
    return None


def _orders_route(parts: tuple[str, ...], method: str) -> tuple[str, Handler] | None:
    """Orders 2026-01-01, and Orders v0 (shipments are confirmed through v0)."""
    if parts[:3] == ORDERS and method == "GET" and len(parts) in (3, 4):
        return ("searchOrders", _search_orders) if len(parts) == 3 else ("getOrder", _get_order)
    if parts[:3] != ORDERS_V0:
        return None
    if method == "GET" and len(parts) == 3:
        return "v0.getOrders", _orders_v0
    if method == "GET" and len(parts) == 4:
        return "v0.getOrder", _order_v0
    if method == "GET" and parts[4:] == ("orderItems",):
        return "v0.getOrderItems", _order_items_v0
    if method == "POST" and parts[4:] == ("shipmentConfirmation",):
        return "v0.confirmShipment", _confirm_shipment
    return None


def _segments(request: Request) -> list[str]:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return [unquote(p) for p in raw.decode().split("?")[0].strip("/").split("/")]


def _query(request: Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, values in parse_qs(request.url.query).items():
        found[key] = [v for value in values for v in value.split(",")]
    return found


def _listing_target(sandbox: AmazonSandbox, request: Request) -> tuple[str, dict[str, list[str]]]:
    _, _, _, seller, sku = _segments(request)
    query = _query(request)
    if seller != sandbox.seller.seller_id:
        raise Answer(403, _errors("Unauthorized", "Access to requested resource is denied."))
    if query.get("marketplaceIds") != [sandbox.seller.marketplace_id]:
        raise Answer(400, _errors("InvalidInput", "marketplaceIds must name the marketplace"))
    return sku, query


def _put(sandbox: AmazonSandbox, request: Request, body: Any) -> tuple[int, Any]:
    sku, query = _listing_target(sandbox, request)
    preview = query.get("mode") == ["VALIDATION_PREVIEW"]
    return 200, sandbox.seller.put(sku, body, preview)


def _patch(sandbox: AmazonSandbox, request: Request, body: Any) -> tuple[int, Any]:
    sku, query = _listing_target(sandbox, request)
    answer = sandbox.seller.patch(sku, body, query.get("mode") == ["VALIDATION_PREVIEW"])
    if answer is None:
        return 404, _errors("NotFound", f"SKU '{sku}' not found")
    return 200, answer


def _delete(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    sku, _ = _listing_target(sandbox, request)
    answer = sandbox.seller.delete(sku)
    return (200, answer) if answer else (404, _errors("NotFound", f"SKU '{sku}' not found"))


def _get_item(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    sku, query = _listing_target(sandbox, request)
    item = sandbox.seller.listings.items.get(sku)
    if item is None:
        return 404, _errors("NotFound", f"SKU '{sku}' not found in marketplace")
    return 200, sandbox.seller.item_view(item, query.get("includedData", INCLUDED_DEFAULT))


def _search_items(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    query = _query(request)
    seller = _segments(request)[3]
    if seller != sandbox.seller.seller_id:
        raise Answer(403, _errors("Unauthorized", "Access to requested resource is denied."))
    skus = query.get("identifiers", [])
    if len(skus) > 20 or (skus and query.get("identifiersType") != ["SKU"]):
        return 400, _errors("InvalidInput", "up to 20 identifiers, with identifiersType SKU")
    items = sandbox.seller.listings.items
    found = [items[s] for s in skus if s in items] if skus else list(items.values())[:20]
    included = query.get("includedData", INCLUDED_DEFAULT)
    views = [sandbox.seller.item_view(item, included) for item in found]
    return 200, {"numberOfResults": len(views), "items": views}


def _create_document(sandbox: AmazonSandbox, request: Request, body: Any) -> tuple[int, Any]:
    document = sandbox.seller.feeds.new_document(str(body["contentType"]))
    url = str(request.base_url).rstrip("/") + f"/feed-documents/{document.document_id}"
    return 201, {"feedDocumentId": document.document_id, "url": url}


def _create_feed(sandbox: AmazonSandbox, _request: Request, body: Any) -> tuple[int, Any]:
    feeds = sandbox.seller.feeds
    document = feeds.documents.get(str(body["inputFeedDocumentId"]))
    if document is None or document.content is None:
        return 400, _errors("InvalidInput", "inputFeedDocumentId names no uploaded document")
    if body["feedType"] not in ("JSON_LISTINGS_FEED", "POST_ORDER_ACKNOWLEDGEMENT_DATA"):
        return 400, _errors("InvalidInput", f"feedType {body['feedType']} is not supported here")
    size = 1
    if body["feedType"] == "JSON_LISTINGS_FEED":
        try:
            size = max(1, len(json.loads(document.content).get("messages") or ()))
        except (ValueError, AttributeError):
            size = 1
    feed = feeds.create(body["feedType"], list(body["marketplaceIds"]), document.document_id, size)
    return 202, {"feedId": feed.feed_id}


def _get_feed(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    feed = sandbox.seller.feeds.feeds.get(_segments(request)[3])
    if feed is None:
        return 404, _errors("NotFound", "no such feed")
    return 200, feed.view(sandbox.seller.clock())


def _get_document(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    document = sandbox.seller.feeds.documents.get(_segments(request)[3])
    if document is None:
        return 404, _errors("NotFound", "no such document")
    url = str(request.base_url).rstrip("/") + f"/feed-documents/{document.document_id}"
    found = {"feedDocumentId": document.document_id, "url": url}
    if document.compressed:
        found["compressionAlgorithm"] = "GZIP"
    return 200, found


def _create_report(sandbox: AmazonSandbox, _request: Request, body: Any) -> tuple[int, Any]:
    """GET_SALES_AND_TRAFFIC_REPORT by day and SKU, over whole days up to today."""
    seller = sandbox.seller
    options = dict(body.get("reportOptions") or {})
    if body["reportType"] != REPORT_TYPE:
        return 400, _errors(
            "InvalidInput", f"reportType {body['reportType']} is not supported here"
        )
    if options.get("dateGranularity", "DAY") != "DAY" or options.get("asinGranularity") != "SKU":
        return 400, _errors(
            "InvalidInput", "the sandbox serves dateGranularity DAY with asinGranularity SKU"
        )
    if body["marketplaceIds"] != [seller.marketplace_id]:
        return 400, _errors("InvalidInput", "marketplaceIds must be the seller's marketplace")
    asked = (body.get("dataStartTime"), body.get("dataEndTime"))
    if not all(isinstance(at, str) for at in asked):
        return 400, _errors("InvalidInput", "dataStartTime and dataEndTime are required")
    start, end = (datetime.fromisoformat(str(at).replace("Z", "+00:00")) for at in asked)
    today = datetime.fromtimestamp(seller.clock(), UTC).date()
    if start > end or end.date() > today or (today - start.date()).days > MAX_DAYS:
        return 400, _errors("InvalidInput", "the dates must run forward, within two years to today")
    report = seller.reports.create(
        list(body["marketplaceIds"]), options, (str(asked[0]), str(asked[1]))
    )
    return 202, {"reportId": report.report_id}


def _get_report(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    report = sandbox.seller.reports.reports.get(_segments(request)[3])
    if report is None:
        return 404, _errors("NotFound", "no such report")
    return 200, report.view(sandbox.seller.clock())


def _get_report_document(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    document_id = _segments(request)[3]
    if document_id not in sandbox.seller.reports.documents:
        return 404, _errors("NotFound", "no such report document")
    url = str(request.base_url).rstrip("/") + f"/report-documents/{document_id}"
    return 200, {"reportDocumentId": document_id, "url": url, "compressionAlgorithm": "GZIP"}


def _search_orders(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    query = {k: v[0] for k, v in _query(request).items()}
    window = _order_window(
        sandbox.seller, query, size=query.get("maxResultsPerPage"), token="paginationToken",
        created="createdAfter", updated="lastUpdatedAfter",
    )  # fmt: skip
    if isinstance(window, tuple):
        return window
    included = _query(request).get("includedData", [])
    answer: dict[str, Any] = {"orders": [o.as_2026(included) for o in window.page]}
    following = window.next_token()
    if following:
        answer["pagination"] = {"nextToken": following}
    return 200, answer


@dataclass(frozen=True)
class _OrderWindow:
    """The seller's orders created (or changed) since a moment, oldest first, and the page
    of them asked for; a next-page token carries the moment and where the next page starts."""

    since_field: str
    since: str
    offset: int
    size: int
    orders: list[Order]

    @property
    def page(self) -> list[Order]:
        return self.orders[self.offset : self.offset + self.size]

    def next_token(self) -> str | None:
        if self.offset + self.size >= len(self.orders):
            return None
        following = json.dumps([self.since_field, self.since, self.offset + self.size]).encode()
        return base64.urlsafe_b64encode(following).decode()


def _order_window(
    seller: Seller,
    query: dict[str, str],
    *,
    size: str | None,
    token: str,
    created: str,
    updated: str,
) -> _OrderWindow | tuple[int, Any]:
    """The window a search asks for (by `created` or `updated`, the API's own names for
    them, or by its `token`), or why the search is refused."""
    if query.get(token):
        try:
            since_field, since, offset = json.loads(base64.urlsafe_b64decode(query[token]))
        except ValueError:
            return 400, _errors("InvalidInput", f"{token} is not valid")
    else:
        given = [k for k in (created, updated) if k in query]
        if len(given) != 1:
            return 400, _errors(
                "InvalidInput", f"exactly one of {created} and {updated} is required"
            )
        since_field, since, offset = given[0], query[given[0]], 0
    try:
        after = datetime.fromisoformat(since).timestamp()
    except ValueError:
        return 400, _errors("InvalidInput", f"{since_field} is not an ISO 8601 date-time")
    field = "created" if since_field == created else "updated"
    orders = sorted(
        (o for o in seller.orders.values() if getattr(o, field) >= after),
        key=lambda o: (getattr(o, field), o.order_id),
    )
    return _OrderWindow(since_field, since, offset, page_size(size, MAX_ORDERS_DEFAULT), orders)


MAX_ORDERS_DEFAULT = 100


def _get_order(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    order = sandbox.seller.orders.get(_segments(request)[3])
    if order is None:
        return 404, _errors("NotFound", "no such order")
    return 200, {"order": order.as_2026(_query(request).get("includedData", []))}


def _confirm_shipment(sandbox: AmazonSandbox, request: Request, body: Any) -> tuple[int, Any]:
    return sandbox.seller.confirm_shipment(_segments(request)[3], body)


FBA_PAGE = 50  # summaries a page, as Amazon gives them


def _inventory_summaries(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    """getInventorySummaries: the model's required parameters checked, 50 summaries a page."""
    query = _query(request)
    seller = sandbox.seller
    marketplace = seller.marketplace_id
    if query.get("granularityType") != ["Marketplace"]:
        return 400, _errors("InvalidInput", "granularityType must be Marketplace")
    if query.get("granularityId") != [marketplace] or query.get("marketplaceIds") != [marketplace]:
        return 400, _errors("InvalidInput", "granularityId and marketplaceIds name the marketplace")
    skus = query.get("sellerSkus")
    if skus is not None and len(skus) > FBA_PAGE:
        return 400, _errors("InvalidInput", f"at most {FBA_PAGE} sellerSkus")
    since: float | None = None
    if "startDateTime" in query:
        try:
            since = datetime.fromisoformat(query["startDateTime"][0]).timestamp()
        except ValueError:
            return 400, _errors("InvalidInput", "startDateTime is not an ISO 8601 date-time")
        skus = None  # the model: sellerSkus is ignored with startDateTime
    offset = 0
    if "nextToken" in query:
        try:
            offset = int(base64.urlsafe_b64decode(query["nextToken"][0]))
        except ValueError:
            return 400, _errors("InvalidInput", "nextToken is not valid")
    found = seller.fba.summaries(skus, since, query.get("details") == ["true"])
    answer: dict[str, Any] = {
        "payload": {
            "granularity": {"granularityType": "Marketplace", "granularityId": marketplace},
            "inventorySummaries": found[offset : offset + FBA_PAGE],
        }
    }
    if offset + FBA_PAGE < len(found):
        answer["pagination"] = {
            "nextToken": base64.urlsafe_b64encode(str(offset + FBA_PAGE).encode()).decode()
        }
    return 200, answer


def _orders_v0(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    """getOrders: MarketplaceIds, and CreatedAfter or LastUpdatedAfter (or a NextToken)."""
    query = {k: v[0] for k, v in _query(request).items()}
    seller = sandbox.seller
    if _query(request).get("MarketplaceIds") != [seller.marketplace_id]:
        return 400, _errors("InvalidInput", "MarketplaceIds must name the marketplace")
    window = _order_window(
        seller, query, size=query.get("MaxResultsPerPage"), token="NextToken",
        created="CreatedAfter", updated="LastUpdatedAfter",
    )  # fmt: skip
    if isinstance(window, tuple):
        return window
    payload: dict[str, Any] = {"Orders": [order_v0(o) for o in window.page]}
    following = window.next_token()
    if following:
        payload["NextToken"] = following
    return 200, {"payload": payload}


def _order_v0(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    order = sandbox.seller.orders.get(_segments(request)[3])
    if order is None:
        return 404, _errors("NotFound", "no such order")
    return 200, {"payload": order_v0(order)}


def _order_items_v0(sandbox: AmazonSandbox, request: Request, _body: Any) -> tuple[int, Any]:
    order = sandbox.seller.orders.get(_segments(request)[3])
    if order is None:
        return 404, _errors("NotFound", "no such order")
    return 200, {"payload": order_items_v0(order)}
