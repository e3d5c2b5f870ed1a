"""One Shopify shop as the sync engine's `ChannelPort`, over the Admin GraphQL API 2026-01.

Contract (channel-contracts §1): listings are `productSet` upserts (built by `mapping`);
stock is absolute `inventorySetQuantities` on "available" at the configured location, with
`changeFromQuantity` as the compare-and-swap guard; prices go per product through
`productVariantsBulkUpdate`; orders are read sorted by UPDATED_AT after a timestamp; a
shipment is a `fulfillmentCreate` over the order's fulfilment orders; a line the hub cancels
is removed by an order edit (`orderEditBegin`, `orderEditSetQuantity`, `orderEditCommit`),
an order it cancels whole by `orderCancel`; product page views are read with ShopifyQL
(`shopifyqlQuery`, see `views`).
Every id the hub keeps is an Admin GraphQL global id (gid://shopify/...).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final, TypeVar

from adapters.channel_kit.addresses import in_hub_words
from adapters.channel_kit.timestamps import parse_time
from adapters.channels.shopify import documents as doc
from adapters.channels.shopify import views, webhooks
from adapters.channels.shopify.client import ShopifyClient
from adapters.channels.shopify.mapping import decimal_string
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import (
    DEFAULT_VIEWS_LOOK_BACK_DAYS,
    Capability,
    ChannelLevel,
    ChannelLimits,
    ChannelMisconfigured,
    ChannelOrder,
    ChannelOrderLine,
    ChannelRejected,
    ChannelUnavailable,
    InboundEvent,
    InboundIdentity,
    InboundKind,
    KeyResult,
    LineCancelNotice,
    ListingRefs,
    OrderPage,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)

T = TypeVar("T")

# Shopify's reason for a stock figure set from outside ("correction", "cycle_count_available"…).
STOCK_REASON: Final = "correction"
# CHANGE_FROM_QUANTITY_STALE since 2026-01; COMPARE_QUANTITY_STALE from the deprecated field.
STALE_CODES: Final = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
# Fulfilment orders that can still take a fulfilment.
FULFILLABLE: Final = frozenset({"OPEN", "IN_PROGRESS"})
# The order's MailingAddress (as OrdersSince asks for it) -> the hub's address words.
ADDRESS_WORDS: Final = {
    "address1": "line1", "address2": "line2", "city": "city", "provinceCode": "province_code",
    "zip": "zip", "countryCodeV2": "country",
}  # fmt: skip
# What the port does with a shop (the channel kind's descriptor declares the same).
CAPABILITIES: Final = frozenset(
    {
        Capability.LISTINGS,
        Capability.QUANTITIES,
        Capability.PRICES,
        Capability.ORDERS_PUSH,
        Capability.ORDERS_PULL,
        Capability.FULFILMENT,
        Capability.CANCELLATION,
    }
)


class ShopifyChannel:
    """A connected Shopify shop: stock at one location, prices, listings, orders, shipments."""

    capabilities = CAPABILITIES
    # ShopifyQL's sessions name no settling window: the default (one call a day read).
    views_look_back_days = DEFAULT_VIEWS_LOOK_BACK_DAYS

    def __init__(
        self,
        client: ShopifyClient,
        *,
        location_id: str,
        webhook_secret: str,
        notify_customer: bool = True,
    ):
        self._client = client
        self._location_id = location_id
        self._webhook_secret = webhook_secret
        self._notify_customer = notify_customer

    @property
    def limits(self) -> ChannelLimits:
        return ChannelLimits(
            quantities_per_call=doc.QUANTITIES_PER_CALL, prices_per_call=doc.PRICES_PER_CALL
        )

    # Listings

    async def upsert_listing(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        """Send the mapping's productSet; the refs are the product id and, per SKU, its
        variant and inventory item ids (which stock and price updates need)."""
        refs = known
        for request in requests:
            query, variables = str(request.body["query"]), dict(request.body["variables"])
            cost = doc.product_set_cost(variables.get("input") or {})
            data = await self._client.execute(query, variables, estimated_cost=cost)
            product = _payload(data, "productSet").get("product")
            if not isinstance(product, dict) or not product.get("id"):
                raise ChannelUnavailable("Shopify's productSet answer has no product")
            refs = ListingRefs(
                listing_id=str(product["id"]),
                sku_ids=await self._variant_ids(product["id"], product.get("variants")),
            )
        return refs

    async def _variant_ids(self, product_id: str, first: Any) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        page = first
        while True:
            for variant in _nodes(page):
                sku, item = variant.get("sku"), _dig(variant, "inventoryItem", "id")
                if sku and variant.get("id") and item:
                    found[sku] = {"variant_id": variant["id"], "inventory_item_id": item}
            after = _next_cursor(page)
            if after is None:
                return found
            data = await self._client.execute(
                doc.LISTING_VARIANTS,
                {"id": product_id, "after": after},
                estimated_cost=doc.LISTING_VARIANTS_COST,
            )
            page = _dig(data, "product", "variants")

    async def end_listing(self, refs: ListingRefs) -> None:
        """Archive the product: off every sales channel, kept (with its history) in the shop."""
        if not refs.listing_id:
            return
        data = await self._client.execute(
            doc.LISTING_END,
            {"product": {"id": refs.listing_id, "status": "ARCHIVED"}},
            estimated_cost=doc.LISTING_END_COST,
        )
        _payload(data, "productUpdate")

    # Stock

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        """Set "available" at the location; `previous` is the compare-and-swap guard."""
        location = self._location()
        results: list[KeyResult] = []
        for chunk in _chunks(updates, doc.QUANTITIES_PER_CALL):
            results += await self._set_quantities(chunk, location)
        return results

    async def _set_quantities(
        self, chunk: Sequence[QuantityUpdate], location: str
    ) -> list[KeyResult]:
        results: dict[int, KeyResult] = {}
        pending: list[int] = []
        for i, update in enumerate(chunk):
            if update.refs.get("inventory_item_id"):
                pending.append(i)
            else:
                results[i] = _rejected(update.sku, "no Shopify inventory item id: list it first")
        while pending:
            quantities = [
                {
                    "inventoryItemId": chunk[i].refs["inventory_item_id"],
                    "locationId": location,
                    "quantity": chunk[i].quantity,
                    # Always sent: from 2026-04 an omitted changeFromQuantity is an error, and
                    # null (nothing known) is how a caller opts out of the check.
                    "changeFromQuantity": chunk[i].previous,
                }
                for i in pending
            ]
            variables = {
                "input": {"name": "available", "reason": STOCK_REASON, "quantities": quantities}
            }
            data = await self._client.execute(
                doc.QUANTITIES_SET, variables, estimated_cost=doc.QUANTITIES_SET_COST
            )
            payload = _payload(data, "inventorySetQuantities", raise_errors=False)
            errors = _user_errors(payload)
            if any(error.get("code") == "INVALID_LOCATION" for error in errors):
                raise ChannelMisconfigured(f"Shopify has no location {location}")
            failed, general = _errors_by_position(errors, "quantities", len(pending))
            for position, error in failed.items():
                update = chunk[pending[position]]
                outcome = Outcome.STALE if error.get("code") in STALE_CODES else Outcome.REJECTED
                results[pending[position]] = KeyResult(update.sku, outcome, _message(error))
            rest = [i for position, i in enumerate(pending) if position not in failed]
            if general:
                message = "; ".join(_message(error) for error in general)
                results.update({i: _rejected(chunk[i].sku, message) for i in rest})
                break
            if not failed or payload.get("inventoryAdjustmentGroup") is not None:
                for i in rest:
                    update = chunk[i]
                    results[i] = KeyResult(
                        update.sku, Outcome.CONFIRMED, confirmed_quantity=update.quantity
                    )
                break
            # Nothing was applied (the mutation is all or nothing): the others go again alone.
            pending = rest
        return [results[i] for i in range(len(chunk))]

    # Prices

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        """Variant prices, one productVariantsBulkUpdate per product (`listing_refs`)."""
        results: dict[int, KeyResult] = {}
        by_product: dict[str, list[int]] = {}
        for i, update in enumerate(updates):
            product = update.listing_refs.get("product_id") or update.listing_refs.get("listing_id")
            if not product or not update.refs.get("variant_id"):
                results[i] = _rejected(
                    update.sku, "no Shopify product or variant id: list it first"
                )
            else:
                by_product.setdefault(product, []).append(i)
        for product, indices in by_product.items():
            for chunk in _chunks(indices, doc.PRICES_PER_CALL):
                results.update(await self._update_prices(product, [(i, updates[i]) for i in chunk]))
        return [results[i] for i in range(len(updates))]

    async def _update_prices(
        self, product: str, chunk: list[tuple[int, PriceUpdate]]
    ) -> dict[int, KeyResult]:
        variants = [
            {
                "id": update.refs["variant_id"],
                "price": decimal_string(update.price),
                # null clears a compare-at price the hub no longer has.
                "compareAtPrice": decimal_string(update.compare_at) if update.compare_at else None,
            }
            for _, update in chunk
        ]
        data = await self._client.execute(
            doc.PRICES_UPDATE,
            {"productId": product, "variants": variants},
            estimated_cost=doc.PRICES_UPDATE_COST,
        )
        payload = _payload(data, "productVariantsBulkUpdate", raise_errors=False)
        failed, general = _errors_by_position(_user_errors(payload), "variants", len(chunk))
        saved = {
            variant.get("id"): variant
            for variant in payload.get("productVariants") or ()
            if isinstance(variant, dict)
        }
        results: dict[int, KeyResult] = {}
        for position, (i, update) in enumerate(chunk):
            variant = saved.get(update.refs["variant_id"])
            if position in failed:
                results[i] = _rejected(update.sku, _message(failed[position]))
            elif general and variant is None:
                message = "; ".join(_message(error) for error in general)
                results[i] = _rejected(update.sku, message)
            else:
                price = webhooks.money_or_none(_dig(variant, "price"), update.price.currency)
                results[i] = KeyResult(
                    update.sku, Outcome.CONFIRMED, confirmed_price=price or update.price
                )
        return results

    # Reconciliation

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        """Each SKU's "available" at the location and its price, by its variant id."""
        location = self._location()
        levels = {sku: ChannelLevel(sku, None, None) for sku in refs}
        wanted = [(sku, ids["variant_id"]) for sku, ids in refs.items() if ids.get("variant_id")]
        for chunk in _chunks(wanted, doc.LEVELS_PER_CALL):
            data = await self._client.execute(
                doc.LEVELS_READ,
                {"ids": [variant for _, variant in chunk], "locationId": location},
                estimated_cost=doc.levels_read_cost(len(chunk)),
            )
            currency = _dig(data, "shop", "currencyCode")
            nodes = data.get("nodes")
            if not isinstance(nodes, list) or len(nodes) != len(chunk):
                raise ChannelUnavailable("Shopify's nodes answer does not match the ids asked")
            for (sku, _), node in zip(chunk, nodes, strict=True):
                if isinstance(node, dict):
                    levels[sku] = ChannelLevel(
                        sku,
                        _available(_dig(node, "inventoryItem", "inventoryLevel")),
                        webhooks.money_or_none(node.get("price"), currency),
                    )
        return list(levels.values())

    # Views (ShopifyQL's products.view_sessions: see `views`)

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        return await views.read_views(self._client, refs, day)

    # Orders

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders updated since the cursor's position, oldest update first.

        Shopify's timestamps have whole seconds, so `updated_at:>T` would miss an order
        updated within the second of T but indexed after the last read. The pass asks for
        `updated_at:>='T'` instead and drops the orders at T it already returned. A pass may
        take several pages (Shopify's page cursors belong to one query); when it ends, the
        next pass starts at the last updatedAt seen.
        """
        position = _OrderCursor.decode(cursor)
        query = f"updated_at:>='{position.since}'" if position.since else None
        data = await self._client.execute(
            doc.ORDERS_SINCE,
            {"first": doc.ORDERS_PER_PAGE, "after": position.after, "query": query},
            estimated_cost=doc.ORDERS_SINCE_COST,
        )
        connection = data.get("orders")
        if not isinstance(connection, dict):
            raise ChannelUnavailable("Shopify's orders answer has no orders")
        orders = []
        last, last_ids = position.last, set(position.last_ids)
        for node in _nodes(connection):
            stamp = str(node.get("updatedAt"))
            if position.at_boundary(stamp) and node.get("id") in position.skip:
                continue
            order = await self._order(node)
            orders.append(order)
            if last is not None and _same_time(stamp, last):
                last_ids.add(order.external_id)
            else:
                last, last_ids = stamp, {order.external_id}
        after = _next_cursor(connection)
        following = _OrderCursor(
            since=position.since if after else last,
            skip=position.skip if after else tuple(sorted(last_ids)),
            after=after,
            last=last,
            last_ids=tuple(sorted(last_ids)),
        )
        return OrderPage(tuple(orders), following.encode())

    async def _order(self, node: Mapping[str, Any]) -> ChannelOrder:
        lines = list(_nodes(node.get("lineItems")))
        after = _next_cursor(node.get("lineItems"))
        while after is not None:
            data = await self._client.execute(
                doc.ORDER_LINES,
                {"id": node.get("id"), "after": after},
                estimated_cost=doc.ORDER_LINES_COST,
            )
            page = _dig(data, "order", "lineItems")
            lines += _nodes(page)
            after = _next_cursor(page)
        return graphql_order(node, lines)

    # Shipments

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        """fulfillmentCreate over the order's open fulfilment orders, with tracking."""
        order_id = shipment.order_refs.get("order_id")
        if not order_id:
            raise ChannelRejected("the shipment names no Shopify order (order_refs['order_id'])")
        data = await self._client.execute(
            doc.SHIPMENT_LINES, {"id": order_id}, estimated_cost=doc.SHIPMENT_LINES_COST
        )
        order = data.get("order")
        if not isinstance(order, dict):
            raise ChannelRejected(f"Shopify has no order {order_id}")
        earlier = _fulfillment_with(order, shipment.tracking_number)
        if earlier is not None:
            return earlier  # created by an earlier try whose answer was lost
        tracking = {"company": shipment.carrier, "number": shipment.tracking_number}
        if shipment.tracking_url:
            tracking["url"] = shipment.tracking_url
        fulfillment = {
            "lineItemsByFulfillmentOrder": _shipment_lines(order, shipment.lines),
            "trackingInfo": tracking,
            "notifyCustomer": self._notify_customer,
        }
        data = await self._client.execute(
            doc.SHIPMENT_CREATE,
            {"fulfillment": fulfillment},
            estimated_cost=doc.SHIPMENT_CREATE_COST,
        )
        created = _payload(data, "fulfillmentCreate").get("fulfillment")
        if not isinstance(created, dict) or not created.get("id"):
            raise ChannelUnavailable("Shopify's fulfillmentCreate answer has no fulfillment")
        return str(created["id"])

    # Cancellations

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        """One order edit: each line's unfulfilled units removed, then committed.

        `restock: false`: the hub publishes this shop's stock; the unit it cancelled is one
        the hub does not have, so it must not come back as available on Shopify. A line with
        nothing left to remove (cancelled already: a repeat) is skipped; if none is left,
        nothing is committed.
        """
        order_id = notice.order_refs.get("order_id")
        if not order_id:
            raise ChannelRejected(
                "the cancellation names no Shopify order (order_refs['order_id'])"
            )
        if notice.whole_order:
            await self._cancel_order(order_id, notice.reason)
            return
        data = await self._client.execute(
            doc.ORDER_EDIT_BEGIN, {"id": order_id}, estimated_cost=doc.ORDER_EDIT_BEGIN_COST
        )
        calculated = _payload(data, "orderEditBegin").get("calculatedOrder")
        if not isinstance(calculated, dict) or not calculated.get("id"):
            raise ChannelUnavailable("Shopify's orderEditBegin answer has no calculated order")
        edits = _line_edits(calculated, notice.lines)
        if not edits:
            return  # nothing left to remove: the unused edit is left to lapse, as Shopify's do
        for line_id, quantity in edits:
            variables = {
                "id": calculated["id"], "lineItemId": line_id, "quantity": quantity,
                "restock": False,
            }  # fmt: skip
            data = await self._client.execute(
                doc.ORDER_EDIT_SET_QUANTITY, variables,
                estimated_cost=doc.ORDER_EDIT_SET_QUANTITY_COST,
            )  # fmt: skip
            _payload(data, "orderEditSetQuantity")
        variables = {
            "id": calculated["id"], "notifyCustomer": self._notify_customer,
            "staffNote": notice.reason[:255],
        }  # fmt: skip
        data = await self._client.execute(
            doc.ORDER_EDIT_COMMIT, variables, estimated_cost=doc.ORDER_EDIT_COMMIT_COST
        )
        if not isinstance(_payload(data, "orderEditCommit").get("order"), dict):
            raise ChannelUnavailable("Shopify's orderEditCommit answer has no order")

    async def _cancel_order(self, order_id: str, reason: str) -> None:
        """`orderCancel`, unless Shopify has the order cancelled already (a repeat, or the
        shop cancelled it too). `restock: false` as for lines; the payment goes back to the
        customer's original method, as a merchant cancelling in Shopify admin does."""
        data = await self._client.execute(
            doc.ORDER_CANCELLED, {"id": order_id}, estimated_cost=doc.ORDER_CANCELLED_COST
        )
        order = data.get("order")
        if not isinstance(order, dict):
            raise ChannelRejected(f"Shopify has no order {order_id} to cancel")
        if order.get("cancelledAt"):
            return
        variables = {
            "orderId": order_id, "reason": "OTHER", "restock": False,
            "refundMethod": {"originalPaymentMethodsRefund": True},
            "notifyCustomer": self._notify_customer, "staffNote": reason[:255],
        }  # fmt: skip
        data = await self._client.execute(
            doc.ORDER_CANCEL, variables, estimated_cost=doc.ORDER_CANCEL_COST
        )
        payload = data.get("orderCancel")
        if not isinstance(payload, dict):
            raise ChannelUnavailable("Shopify answered without orderCancel")
        errors = [e for e in payload.get("orderCancelUserErrors") or [] if isinstance(e, dict)]
        if errors:
            raise ChannelRejected("; ".join(_message(error) for error in errors))

    # Webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(headers, body, self._webhook_secret)

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return webhooks.identify(headers)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        event = webhooks.parse(headers, body)
        edit = event.stock_edit
        if edit is not None and edit.sku_refs.get("location_id") != self._location_id:
            # Shopify reports every location of the shop; Nexo sets stock at one of them.
            return replace(event, kind=InboundKind.OTHER, stock_edit=None)
        return event

    def _location(self) -> str:
        if not self._location_id:
            raise ChannelMisconfigured("no Shopify location is configured for stock")
        return self._location_id


@dataclass(frozen=True, slots=True)
class _OrderCursor:
    """Where `fetch_orders` continues; opaque to the hub (base64 JSON)."""

    since: str | None = None  # this pass reads orders updated at or after this updatedAt
    skip: tuple[str, ...] = ()  # orders at exactly `since` already returned
    after: str | None = None  # Shopify's page cursor within this pass
    last: str | None = None  # the last updatedAt returned so far
    last_ids: tuple[str, ...] = ()  # the orders returned at exactly `last`

    def at_boundary(self, stamp: str) -> bool:
        return self.since is not None and _same_time(stamp, self.since)

    def encode(self) -> str | None:
        if self == _OrderCursor():
            return None  # nothing seen yet: the next call starts from the default window
        raw = json.dumps([self.since, self.skip, self.after, self.last, self.last_ids])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str | None) -> _OrderCursor:
        if not cursor:
            return cls()
        try:
            since, skip, after, last, last_ids = json.loads(base64.urlsafe_b64decode(cursor))
            return cls(since, tuple(skip), after, last, tuple(last_ids))
        except (ValueError, TypeError, binascii.Error):
            raise ChannelRejected(f"not a Shopify order cursor: {cursor!r}") from None


def _same_time(first: str, second: str) -> bool:
    return parse_time(first) == parse_time(second)


def graphql_order(node: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> ChannelOrder:
    """An Admin GraphQL Order (the OrdersSince shape) as a ChannelOrder."""
    updated_at = parse_time(node.get("updatedAt"))
    if not node.get("id") or updated_at is None:
        raise ChannelUnavailable("Shopify answered an order without its id or updatedAt")
    return ChannelOrder(
        external_id=str(node["id"]),
        number=node.get("name"),
        updated_at=updated_at,
        placed_at=parse_time(node.get("processedAt")) or parse_time(node.get("createdAt")),
        status=webhooks.order_status(
            bool(node.get("cancelledAt")), node.get("displayFinancialStatus")
        ),
        lines=tuple(
            ChannelOrderLine(
                line_id=str(line.get("id")),
                sku=line.get("sku") or None,
                quantity=int(line.get("quantity") or 0),
                unit_price=webhooks.money_or_none(
                    _dig(line, "originalUnitPriceSet", "shopMoney", "amount"),
                    _dig(line, "originalUnitPriceSet", "shopMoney", "currencyCode"),
                ),
            )
            for line in lines
        ),
        customer={
            "id": _dig(node, "customer", "id"),
            "email": node.get("email"),
            "phone": node.get("phone"),
        },
        raw={**node, "lineItems": list(lines),
             "shipping_address": in_hub_words(node.get("shippingAddress"), ADDRESS_WORDS)},
    )  # fmt: skip


def _fulfillment_with(order: Mapping[str, Any], tracking_number: str) -> str | None:
    """The order's live fulfilment shipped under this tracking number, if any."""
    for fulfillment in order.get("fulfillments") or []:
        if not isinstance(fulfillment, dict) or fulfillment.get("status") == "CANCELLED":
            continue
        numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or []}
        if tracking_number in numbers and fulfillment.get("id"):
            return str(fulfillment["id"])
    return None


def _shipment_lines(
    order: Mapping[str, Any], lines: Sequence[tuple[str, int]]
) -> list[dict[str, Any]]:
    """The lines to ship as fulfilment order line items, taken from open fulfilment orders.

    No lines: everything still open ships (a fulfilment order without line items means all
    of it). Otherwise each order line's quantity is drawn from what its fulfilment order
    lines still have to ship.
    """
    open_orders = [
        fo for fo in _nodes(order.get("fulfillmentOrders")) if fo.get("status") in FULFILLABLE
    ]
    if not open_orders:
        raise ChannelRejected(f"order {order.get('id')} has nothing left to fulfil")
    if not lines:
        return [{"fulfillmentOrderId": fo["id"]} for fo in open_orders]
    remaining = {
        (fo["id"], item["id"]): [
            _dig(item, "lineItem", "id"),
            int(item.get("remainingQuantity") or 0),
        ]
        for fo in open_orders
        for item in _nodes(fo.get("lineItems"))
    }
    taken: dict[str, list[dict[str, Any]]] = {}
    for line_id, quantity in lines:
        left = quantity
        for (fo_id, item_id), entry in remaining.items():
            if entry[0] != line_id or entry[1] == 0 or left == 0:
                continue
            take = min(left, entry[1])
            entry[1] -= take
            left -= take
            taken.setdefault(fo_id, []).append({"id": item_id, "quantity": take})
        if left:
            raise ChannelRejected(
                f"line {line_id}: {quantity} to ship but only {quantity - left} left to fulfil"
            )
    return [
        {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items}
        for fo_id, items in taken.items()
    ]


def _line_edits(calculated: Mapping[str, Any], line_ids: Sequence[str]) -> list[tuple[str, int]]:
    """(calculated line item id, quantity to keep) for each line with units left to remove.

    A calculated line item's id carries the number of the order's line item it stands for
    (LineItem/123 is CalculatedLineItem/123): that is how the two are matched.
    """
    nodes = _nodes(_dig(calculated, "lineItems"))
    by_number = {str(node.get("id")).rsplit("/", 1)[-1]: node for node in nodes}
    edits: list[tuple[str, int]] = []
    for line_id in line_ids:
        node = by_number.get(line_id.rsplit("/", 1)[-1])
        if node is None:
            raise ChannelRejected(f"Shopify's order has no line {line_id} to cancel")
        quantity, editable = int(node.get("quantity") or 0), int(node.get("editableQuantity") or 0)
        if editable > 0:
            edits.append((str(node["id"]), quantity - editable))
    return edits


def _payload(data: Mapping[str, Any], name: str, *, raise_errors: bool = True) -> dict[str, Any]:
    """A mutation's payload; its userErrors become ChannelRejected unless asked not to."""
    payload = data.get(name)
    if not isinstance(payload, dict):
        raise ChannelUnavailable(f"Shopify answered without {name}")
    errors = _user_errors(payload)
    if raise_errors and errors:
        raise ChannelRejected("; ".join(_message(error) for error in errors))
    return payload


def _user_errors(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = payload.get("userErrors") or []
    return [error for error in errors if isinstance(error, dict)]


def _message(error: Mapping[str, Any]) -> str:
    """A userError as "field.path: message" (the field names what Shopify refused)."""
    field = error.get("field")
    message = str(error.get("message") or error.get("code") or "refused")
    return f"{'.'.join(map(str, field))}: {message}" if field else message


def _errors_by_position(
    errors: list[dict[str, Any]], array: str, size: int
) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """userErrors pointing into `array` (field [..., array, "3", ...]) by position; the rest."""
    by_position: dict[int, dict[str, Any]] = {}
    general: list[dict[str, Any]] = []
    for error in errors:
        field = [str(part) for part in error.get("field") or ()]
        position = None
        if array in field and field.index(array) + 1 < len(field):
            index = field[field.index(array) + 1]
            position = int(index) if index.isdigit() and int(index) < size else None
        if position is None:
            general.append(error)
        elif position not in by_position or error.get("code") in STALE_CODES:
            by_position[position] = error
    return by_position, general


def _rejected(sku: str, message: str) -> KeyResult:
    return KeyResult(sku, Outcome.REJECTED, message)


def _available(level: Any) -> int | None:
    for quantity in _dig(level, "quantities") or ():
        if isinstance(quantity, dict) and quantity.get("name") == "available":
            value = quantity.get("quantity")
            return value if isinstance(value, int) else None
    return None


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = _dig(connection, "nodes")
    if nodes is None:
        return []
    if not isinstance(nodes, list):
        raise ChannelUnavailable("Shopify answered a connection whose nodes are not a list")
    return [node for node in nodes if isinstance(node, dict)]


def _next_cursor(connection: Any) -> str | None:
    info = _dig(connection, "pageInfo")
    if _dig(info, "hasNextPage") and _dig(info, "endCursor"):
        return str(info["endCursor"])
    return None


def _dig(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
