"""The shop's records as plain JSON, for tests and for GET /_sandbox/state (GraphQL-shaped keys,
gids, decimal strings)."""

from __future__ import annotations

from typing import Any

from sandbox.shopify.ids import gid, level_gid
from sandbox.shopify.models import Fulfillment, Level, Order, Product
from sandbox.shopify.payloads import money
from sandbox.shopify.store import Store


def product_state(product: Product) -> dict[str, Any]:
    return {
        "id": gid("Product", product.id),
        "handle": product.handle,
        "title": product.title,
        "status": product.status,
        "vendor": product.vendor,
        "productType": product.product_type,
        "tags": list(product.tags),
        "descriptionHtml": product.description_html,
        "category": product.category,
        "files": list(product.files),
        "updatedAt": product.updated_at.isoformat(),
        "options": [
            {"name": option.name, "values": [value.name for value in option.option_values]}
            for option in product.options
        ],
        "variants": [
            {
                "id": gid("ProductVariant", variant.id),
                "title": variant.title,
                "sku": variant.sku,
                "price": money(variant.price),
                "compareAtPrice": money(variant.compare_at_price),
                "barcode": variant.barcode,
                "position": variant.position,
                "file": variant.file,
                "selectedOptions": [
                    {"name": name, "value": value} for name, value in variant.options.items()
                ],
                "inventoryItem": {
                    "id": gid("InventoryItem", variant.inventory_item.id),
                    "tracked": variant.inventory_item.tracked,
                },
            }
            for variant in product.variants
        ],
    }


def level_state(level: Level) -> dict[str, Any]:
    return {
        "id": level_gid(level.location.id, level.item.id),
        "sku": level.item.sku,
        "inventoryItemId": gid("InventoryItem", level.item.id),
        "locationId": gid("Location", level.location.id),
        "quantities": {
            name: level.get(name) for name in ("available", "committed", "on_hand", "reserved")
        },
    }


def order_state(order: Order) -> dict[str, Any]:
    return {
        "id": gid("Order", order.id),
        "name": order.name,
        "createdAt": order.created_at.isoformat(),
        "updatedAt": order.updated_at.isoformat(),
        "cancelledAt": order.cancelled_at.isoformat() if order.cancelled_at else None,
        "displayFinancialStatus": order.display_financial_status,
        "displayFulfillmentStatus": order.display_fulfillment_status,
        "email": order.email,
        "lineItems": [
            {
                "id": gid("LineItem", line.id),
                "sku": line.sku,
                "quantity": line.quantity,
                "currentQuantity": line.current_quantity,
                "fulfilledQuantity": line.fulfilled_quantity,
                "price": money(line.price),
            }
            for line in order.line_items
        ],
        "fulfillmentOrders": [
            {
                "id": gid("FulfillmentOrder", fo.id),
                "status": fo.status,
                "locationId": gid("Location", fo.location.id),
            }
            for fo in order.fulfillment_orders
        ],
    }


def fulfillment_state(fulfillment: Fulfillment) -> dict[str, Any]:
    return {
        "id": gid("Fulfillment", fulfillment.id),
        "orderId": gid("Order", fulfillment.order.id),
        "name": fulfillment.name,
        "status": fulfillment.status,
        "totalQuantity": fulfillment.total_quantity,
        "trackingInfo": [
            {"company": t.company, "number": t.number, "url": t.url} for t in fulfillment.tracking
        ],
    }


def shop_state(store: Store) -> dict[str, Any]:
    return {
        "shop": f"{store.shop}.myshopify.com",
        "locations": [
            {"id": gid("Location", loc.id), "name": loc.name} for loc in store.locations.values()
        ],
        "products": [product_state(p) for p in store.products.values()],
        "inventoryLevels": [level_state(level) for level in store.levels.values()],
        "orders": [order_state(o) for o in store.orders.values()],
        "fulfillments": [fulfillment_state(f) for f in store.fulfillments.values()],
    }
