"""Webhook bodies: Shopify sends the REST-shaped resource (snake_case, numeric ids, decimal
strings), not the GraphQL shape, with `admin_graphql_api_id` to bridge the two."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.shopify.ids import gid, level_gid
from sandbox.shopify.models import (
    Customer,
    Fulfillment,
    Level,
    LineItem,
    MailingAddress,
    Order,
    Product,
    Variant,
)


def rest_time(moment: datetime) -> str:
    # REST timestamps carry the shop's UTC offset; the sandbox shop runs on UTC.
    return moment.isoformat()


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def order_body(order: Order) -> dict[str, Any]:
    status = order.display_fulfillment_status
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "contact_email": order.email,
        "created_at": rest_time(order.created_at),
        "updated_at": rest_time(order.updated_at),
        "processed_at": rest_time(order.created_at),
        "cancelled_at": rest_time(order.cancelled_at) if order.cancelled_at else None,
        "currency": order.currency_code,
        "total_price": money(order.total_price),
        "subtotal_price": money(order.total_price),
        "financial_status": order.display_financial_status.lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            status
        ),
        "test": False,
        "line_items": [_line_body(line) for line in order.line_items],
        "customer": _customer_body(order.customer) if order.customer else None,
        "shipping_address": _address_body(order.shipping_address)
        if order.shipping_address
        else None,
        "fulfillments": [_fulfillment_body(f) for f in order.fulfillments],
    }


def _address_body(address: MailingAddress) -> dict[str, Any]:
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "name": address.name,
        "company": None,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "province": address.province,
        "province_code": address.province_code,
        "zip": address.zip,
        "country": address.country,
        "country_code": address.country_code_v2,
        "phone": address.phone,
        "latitude": None,
        "longitude": None,
    }


def _line_body(line: LineItem) -> dict[str, Any]:
    variant = line.variant
    return {
        "id": line.id,
        "admin_graphql_api_id": gid("LineItem", line.id),
        "sku": line.sku,
        "title": line.title,
        "name": line.title,
        "quantity": line.quantity,
        "current_quantity": line.current_quantity,
        "fulfillable_quantity": line.unfulfilled_quantity,
        "fulfillment_status": "fulfilled" if line.unfulfilled_quantity == 0 else None,
        "price": money(line.price),
        "variant_id": variant.id if variant else None,
        "product_id": variant.product.id if variant else None,
        "variant_title": variant.title if variant else None,
    }


def _customer_body(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "admin_graphql_api_id": gid("Customer", customer.id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "created_at": rest_time(customer.created_at),
        "updated_at": rest_time(customer.updated_at),
    }


def _fulfillment_body(fulfillment: Fulfillment) -> dict[str, Any]:
    tracking = fulfillment.tracking
    return {
        "id": fulfillment.id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment.id),
        "order_id": fulfillment.order.id,
        "name": fulfillment.name,
        "status": fulfillment.status.lower(),
        "created_at": rest_time(fulfillment.created_at),
        "updated_at": rest_time(fulfillment.updated_at),
        "tracking_company": tracking[0].company if tracking else None,
        "tracking_number": tracking[0].number if tracking else None,
        "tracking_numbers": [t.number for t in tracking if t.number],
        "tracking_url": tracking[0].url if tracking else None,
        "tracking_urls": [t.url for t in tracking if t.url],
        "line_items": [
            {**_line_body(line.line_item), "quantity": quantity}
            for line, quantity in fulfillment.lines
        ],
    }


def inventory_level_body(level: Level) -> dict[str, Any]:
    return {
        "inventory_item_id": level.item.id,
        "location_id": level.location.id,
        "available": level.get("available"),
        "updated_at": rest_time(level.updated_at),
        "admin_graphql_api_id": level_gid(level.location.id, level.item.id),
    }


def product_body(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "admin_graphql_api_id": gid("Product", product.id),
        "title": product.title,
        "handle": product.handle,
        "status": product.status.lower(),
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": ", ".join(product.tags),
        "body_html": product.description_html,
        "created_at": rest_time(product.created_at),
        "updated_at": rest_time(product.updated_at),
        "options": [
            {
                "id": option.id,
                "product_id": product.id,
                "name": option.name,
                "position": option.position,
                "values": [value.name for value in option.option_values],
            }
            for option in product.options
        ],
        "variants": [_variant_body(variant) for variant in product.variants],
    }


def _variant_body(variant: Variant) -> dict[str, Any]:
    values = list(variant.options.values())
    return {
        "id": variant.id,
        "admin_graphql_api_id": gid("ProductVariant", variant.id),
        "product_id": variant.product.id,
        "title": variant.title,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "price": money(variant.price),
        "compare_at_price": money(variant.compare_at_price),
        "position": variant.position,
        "inventory_item_id": variant.inventory_item.id,
        "inventory_policy": variant.inventory_policy.lower(),
        "option1": values[0] if values else None,
        "option2": values[1] if len(values) > 1 else None,
        "option3": values[2] if len(values) > 2 else None,
        "created_at": rest_time(variant.created_at),
        "updated_at": rest_time(variant.updated_at),
    }
