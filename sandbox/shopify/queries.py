"""QueryRoot fields the sandbox answers: the catalog, inventory, locations, orders, `node(s)`,
`shopifyqlQuery` (product page views only: see `shopifyql`).

List fields take Shopify's search syntax in `query:` (see `search`); unknown search fields are
reported in `extensions.search` as Shopify does, and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.shopify.context import Info, RequestContext
from sandbox.shopify.ids import gid_kind, parse_gid, parse_level_gid
from sandbox.shopify.models import InventoryItem, Order, Product, Variant
from sandbox.shopify.objects import store_of, variant_sort
from sandbox.shopify.paging import connection
from sandbox.shopify.search import Getter, compile_query
from sandbox.shopify.shopifyql import run as run_shopifyql

Resolver = Callable[..., Any]


def _search(
    info: Info,
    args: dict[str, Any],
    records: list[Any],
    fields: dict[str, Getter],
    text: list[Getter],
) -> list[Any]:
    query = args.get("query")
    found = compile_query(query, fields, text)
    if found.warnings:
        context: RequestContext = info.context
        context.search.append({"path": [info.path.key], "query": query, "warnings": found.warnings})
    return [record for record in records if found.match(record)]


PRODUCT_FIELDS: dict[str, Getter] = {
    "id": lambda p: p.id,
    "handle": lambda p: p.handle,
    "title": lambda p: p.title,
    "status": lambda p: p.status.lower(),
    "vendor": lambda p: p.vendor,
    "product_type": lambda p: p.product_type,
    "sku": lambda p: [v.sku for v in p.variants if v.sku],
    "barcode": lambda p: [v.barcode for v in p.variants if v.barcode],
    "tag": lambda p: p.tags,
    "created_at": lambda p: p.created_at,
    "updated_at": lambda p: p.updated_at,
}
VARIANT_FIELDS: dict[str, Getter] = {
    "id": lambda v: v.id,
    "sku": lambda v: v.sku,
    "barcode": lambda v: v.barcode,
    "title": lambda v: v.title,
    "product_id": lambda v: v.product.id,
    "inventory_item_id": lambda v: v.inventory_item.id,
    "created_at": lambda v: v.created_at,
    "updated_at": lambda v: v.updated_at,
}
ITEM_FIELDS: dict[str, Getter] = {
    "id": lambda i: i.id,
    "sku": lambda i: i.sku,
    "created_at": lambda i: i.created_at,
    "updated_at": lambda i: i.updated_at,
}
ORDER_FIELDS: dict[str, Getter] = {
    "id": lambda o: o.id,
    "name": lambda o: [o.name, o.name.lstrip("#")],
    "created_at": lambda o: o.created_at,
    "updated_at": lambda o: o.updated_at,
    "processed_at": lambda o: o.created_at,
    "email": lambda o: o.email,
    "sku": lambda o: [line.sku for line in o.line_items if line.sku],
    "financial_status": lambda o: o.display_financial_status.lower(),
    "fulfillment_status": lambda o: {
        "UNFULFILLED": ["unfulfilled", "unshipped"],
        "PARTIALLY_FULFILLED": ["partial", "unfulfilled"],
        "FULFILLED": ["fulfilled", "shipped"],
    }[o.display_fulfillment_status],
    "status": lambda o: ["open", "any"],
    "customer_id": lambda o: o.customer.id if o.customer else None,
}

_PRODUCT_SORT: dict[str, Callable[[Product], Any]] = {
    "ID": lambda p: p.id,
    "TITLE": lambda p: p.title,
    "CREATED_AT": lambda p: p.created_at.isoformat(),
    "UPDATED_AT": lambda p: p.updated_at.isoformat(),
    "VENDOR": lambda p: p.vendor,
    "PRODUCT_TYPE": lambda p: p.product_type,
}
_ORDER_SORT: dict[str, Callable[[Order], Any]] = {
    "ID": lambda o: o.id,
    "ORDER_NUMBER": lambda o: o.number,
    "CREATED_AT": lambda o: o.created_at.isoformat(),
    "PROCESSED_AT": lambda o: o.created_at.isoformat(),
    "UPDATED_AT": lambda o: o.updated_at.isoformat(),
    "TOTAL_PRICE": lambda o: str(o.total_price).zfill(20),
}


def _products(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
    store = store_of(info)
    found = _search(info, args, list(store.products.values()), PRODUCT_FIELDS, [lambda p: p.title])
    sort = _PRODUCT_SORT.get(args.get("sortKey") or "ID", _PRODUCT_SORT["ID"])
    return connection(found, args, sort=sort)


def _product_by_identifier(_root: Any, info: Info, identifier: dict[str, Any]) -> Product | None:
    store = store_of(info)
    if identifier.get("id"):
        return store.products.get(parse_gid(identifier["id"], "Product") or -1)
    if identifier.get("handle"):
        return store.product_by_handle(identifier["handle"])
    return None


def _variants(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
    store = store_of(info)
    text = [lambda v: v.sku, lambda v: v.title, lambda v: v.product.title]
    found: list[Variant] = _search(info, args, list(store.variants.values()), VARIANT_FIELDS, text)
    return connection(found, args, sort=variant_sort(args.get("sortKey")))


def _items(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
    store = store_of(info)
    found: list[InventoryItem] = _search(
        info, args, list(store.items.values()), ITEM_FIELDS, [lambda i: i.sku]
    )
    return connection(found, args, sort=lambda item: item.id)


def _level(_root: Any, info: Info, id: str) -> Any:
    parsed = parse_level_gid(id)
    return store_of(info).level(parsed[1], parsed[0]) if parsed else None


def _location(_root: Any, info: Info, id: str | None = None) -> Any:
    store = store_of(info)
    if id is None:
        return store.primary_location
    return store.locations.get(parse_gid(id, "Location") or -1)


def _locations(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
    store = store_of(info)
    located = [
        loc for loc in store.locations.values() if loc.is_active or args.get("includeInactive")
    ]
    fields: dict[str, Getter] = {"name": lambda loc: loc.name, "id": lambda loc: loc.id}
    found = _search(info, args, located, fields, [lambda loc: loc.name])
    return connection(
        found, args, sort=lambda loc: loc.name if args.get("sortKey") == "NAME" else loc.id
    )


def _orders(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
    store = store_of(info)
    text = [lambda o: o.name, lambda o: o.email]
    found = _search(info, args, list(store.orders.values()), ORDER_FIELDS, text)
    sort = _ORDER_SORT.get(args.get("sortKey") or "ID", _ORDER_SORT["ID"])
    return connection(found, args, sort=sort)


def find_node(store: Any, node_id: str) -> Any:
    """Any record by its gid, for `node`/`nodes` and the by-id root fields."""
    kind = gid_kind(node_id) if isinstance(node_id, str) else None
    if kind == "InventoryLevel":
        parsed = parse_level_gid(node_id)
        return store.level(parsed[1], parsed[0]) if parsed else None
    tables = {
        "Product": store.products,
        "ProductVariant": store.variants,
        "InventoryItem": store.items,
        "Location": store.locations,
        "Order": store.orders,
        "FulfillmentOrder": store.fulfillment_orders,
        "Fulfillment": store.fulfillments,
        "Customer": store.customers,
        "InventoryAdjustmentGroup": store.adjustment_groups,
    }
    table = tables.get(kind or "")
    return table.get(parse_gid(node_id, kind or "") or -1) if table is not None else None


def _by_id(kind: str) -> Resolver:
    def resolve(_root: Any, info: Info, id: str) -> Any:
        found = find_node(store_of(info), id)
        return found if found is not None and found.typename == kind else None

    return resolve


def _shop(_root: Any, info: Info) -> dict[str, Any]:
    store = store_of(info)
    return {
        "id": "gid://shopify/Shop/1",
        "name": store.shop,
        "myshopifyDomain": f"{store.shop}.myshopify.com",
        "currencyCode": store.currency,
        "email": f"owner@{store.shop}.example",
        "ianaTimezone": "Etc/UTC",
        "timezoneAbbreviation": "UTC",
        "plan": {"publicDisplayName": "Basic", "partnerDevelopment": True, "shopifyPlus": False},
    }


def _shopifyql(_root: Any, info: Info, query: str) -> dict[str, Any]:
    store = store_of(info)
    return run_shopifyql(query, store.views, store.now().date())


QUERY: dict[str, Resolver] = {
    "shop": _shop,
    "product": _by_id("Product"),
    "productByIdentifier": _product_by_identifier,
    "products": _products,
    "productVariant": _by_id("ProductVariant"),
    "productVariants": _variants,
    "inventoryItem": _by_id("InventoryItem"),
    "inventoryItems": _items,
    "inventoryLevel": _level,
    "location": _location,
    "locations": _locations,
    "order": _by_id("Order"),
    "orders": _orders,
    "fulfillmentOrder": _by_id("FulfillmentOrder"),
    "fulfillment": _by_id("Fulfillment"),
    "customer": _by_id("Customer"),
    "productOperation": lambda _root, info, id: store_of(info).operations.get(id),
    "node": lambda _root, info, id: find_node(store_of(info), id),
    "nodes": lambda _root, info, ids: [find_node(store_of(info), node_id) for node_id in ids],
    "shopifyqlQuery": _shopifyql,
}
