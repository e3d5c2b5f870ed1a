"""Field resolvers for the Admin API object types the sandbox keeps.

Plain fields resolve from the records' snake_case attributes (see `default_resolver`); the
functions here are the fields that are computed: ids, money bags, connections, counts, and the
ones that read other records. A field of the schema that is not implemented resolves to null.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.context import Info
from sandbox.shopify.ids import gid, level_gid, parse_gid
from sandbox.shopify.models import (
    QUANTITY_NAMES,
    AdjustmentGroup,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    Level,
    Location,
    Order,
    Product,
    Variant,
)
from sandbox.shopify.paging import connection
from sandbox.shopify.store import Store

Resolver = Callable[..., Any]


@cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def default_resolver(source: Any, info: Info, **_args: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.field_name)
    return getattr(source, _snake(info.field_name), None)


def type_resolver(value: Any, _info: Info, _abstract: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("__typename")
    return getattr(value, "typename", None)


def store_of(info: Info) -> Store:
    return info.context.store


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def count(number: int) -> dict[str, Any]:
    return {"count": number, "precision": "EXACT"}


def _id(obj: Any, _info: Info) -> str:
    return gid(obj.typename, obj.id)


def _legacy(obj: Any, _info: Info) -> int:
    return int(obj.id)


def _available(store: Any, variant: Variant) -> int:
    return sum(level.get("available") for level in store.levels_of(variant.inventory_item))


_VARIANT_SORT: dict[str, Callable[[Variant], Any]] = {
    "POSITION": lambda v: v.position,
    "ID": lambda v: v.id,
    "SKU": lambda v: v.sku or "",
    "TITLE": lambda v: v.title,
    "NAME": lambda v: v.title,
    "FULL_TITLE": lambda v: f"{v.product.title} {v.title}",
}


def variant_sort(key: str | None) -> Callable[[Variant], Any]:
    return _VARIANT_SORT.get(key or "ID", _VARIANT_SORT["ID"])


def _product_variants(product: Product, _info: Info, **args: Any) -> dict[str, Any]:
    return connection(product.variants, args, sort=variant_sort(args.get("sortKey") or "POSITION"))


def _product_price_range(product: Product, info: Info) -> dict[str, Any]:
    prices = [v.price for v in product.variants] or [Decimal("0")]
    currency = store_of(info).currency
    return {
        "minVariantPrice": {"amount": min(prices), "currencyCode": currency},
        "maxVariantPrice": {"amount": max(prices), "currencyCode": currency},
    }


PRODUCT: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "options": lambda p, _i, first=None: p.options[:first] if first is not None else p.options,
    "variants": _product_variants,
    "variantsCount": lambda p, _i, **_a: count(len(p.variants)),
    "totalInventory": lambda p, i: sum(_available(store_of(i), v) for v in p.variants),
    "tracksInventory": lambda p, _i: any(v.inventory_item.tracked for v in p.variants),
    "hasOnlyDefaultVariant": lambda p, _i: [v.title for v in p.variants] == ["Default Title"],
    "hasOutOfStockVariants": lambda p, i: any(_available(store_of(i), v) <= 0 for v in p.variants),
    "description": lambda p, _i, truncateAt=None: re.sub(r"<[^>]+>", "", p.description_html)[
        :truncateAt
    ],
    "priceRangeV2": _product_price_range,
    "isGiftCard": lambda _p, _i: False,
    "onlineStoreUrl": lambda _p, _i: None,
}

PRODUCT_OPTION: dict[str, Resolver] = {
    "id": _id,
    "values": lambda o, _i: [value.name for value in o.option_values],
    "optionValues": lambda o, _i: o.option_values,
}

PRODUCT_OPTION_VALUE: dict[str, Resolver] = {
    "id": _id,
    # The sandbox prunes nothing: a value is listed because the input listed it.
    "hasVariants": lambda _v, _i: True,
}


def _selected_options(variant: Variant, _info: Info) -> list[dict[str, Any]]:
    selected = []
    for option in variant.product.options:
        value = variant.options.get(option.name)
        match = next((v for v in option.option_values if v.name == value), None)
        selected.append({"name": option.name, "value": value, "optionValue": match})
    return selected


def _variant_available_for_sale(variant: Variant, info: Info) -> bool:
    if not variant.inventory_item.tracked or variant.inventory_policy == "CONTINUE":
        return True
    return _available(store_of(info), variant) > 0


PRODUCT_VARIANT: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "displayName": lambda v, _i: f"{v.product.title} - {v.title}",
    "selectedOptions": _selected_options,
    "inventoryQuantity": lambda v, i: _available(store_of(i), v),
    "sellableOnlineQuantity": lambda v, i: max(0, _available(store_of(i), v)),
    "availableForSale": _variant_available_for_sale,
    "requiresComponents": lambda _v, _i: False,
    "showUnitPrice": lambda _v, _i: False,
}


def _item_levels(item: InventoryItem, info: Info, **args: Any) -> dict[str, Any]:
    levels = store_of(info).levels_of(item)
    return connection(
        levels, args, sort=lambda lv: lv.location.id, identity=lambda lv: lv.location.id
    )


def _item_level(item: InventoryItem, info: Info, locationId: str) -> Level | None:
    return store_of(info).level(item.id, parse_gid(locationId, "Location") or -1)


def _unit_cost(item: InventoryItem, info: Info) -> dict[str, Any] | None:
    if item.cost is None:
        return None
    return {"amount": item.cost, "currencyCode": store_of(info).currency}


INVENTORY_ITEM: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "inventoryLevels": _item_levels,
    "inventoryLevel": _item_level,
    "locationsCount": lambda item, i: count(len(store_of(i).levels_of(item))),
    "variants": lambda item, _i, **args: connection([item.variant], args, sort=lambda v: v.id),
    "unitCost": _unit_cost,
    "duplicateSkuCount": lambda item, i: (
        len(store_of(i).variants_by_sku(item.sku)) - 1 if item.sku else 0
    ),
    "inventoryHistoryUrl": lambda _item, _i: None,
}


def _quantities(level: Level, _info: Info, names: list[str]) -> list[dict[str, Any]]:
    unknown = [name for name in names if name not in QUANTITY_NAMES]
    if unknown:
        allowed = ", ".join(QUANTITY_NAMES)
        raise GraphQLError(f"Invalid quantity name(s): {', '.join(unknown)}. Valid: {allowed}.")
    return [
        {
            "id": f"{level_gid(level.location.id, level.item.id)}&name={name}".replace(
                "InventoryLevel", "InventoryQuantity"
            ),
            "name": name,
            "quantity": level.get(name),
            "updatedAt": level.updated_at,
        }
        for name in names
    ]


INVENTORY_LEVEL: dict[str, Resolver] = {
    "id": lambda level, _i: level_gid(level.location.id, level.item.id),
    "quantities": _quantities,
    "canDeactivate": lambda _level, _i: True,
    "deactivationAlert": lambda _level, _i: None,
}


def _location_levels(location: Location, info: Info, **args: Any) -> dict[str, Any]:
    levels = [lv for lv in store_of(info).levels.values() if lv.location is location]
    return connection(levels, args, sort=lambda lv: lv.item.id, identity=lambda lv: lv.item.id)


def _location_level(location: Location, info: Info, inventoryItemId: str) -> Level | None:
    return store_of(info).level(parse_gid(inventoryItemId, "InventoryItem") or -1, location.id)


LOCATION: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "inventoryLevels": _location_levels,
    "inventoryLevel": _location_level,
    "address": lambda _loc, _i: {"countryCode": "US", "country": "United States", "formatted": []},
    "activatable": lambda loc, _i: not loc.is_active,
    "deactivatable": lambda loc, _i: loc.is_active,
    "deletable": lambda _loc, _i: False,
    "addressVerified": lambda _loc, _i: False,
    "hasActiveInventory": lambda loc, i: any(
        lv.location is loc for lv in store_of(i).levels.values()
    ),
    "hasUnfulfilledOrders": lambda loc, i: any(
        fo.location is loc and fo.status != "CLOSED"
        for fo in store_of(i).fulfillment_orders.values()
    ),
    "isFulfillmentService": lambda _loc, _i: False,
    "shipsInventory": lambda _loc, _i: True,
    "suggestedAddresses": lambda _loc, _i: [],
}


def _order_money(field: Callable[[Order], Decimal]) -> Resolver:
    return lambda order, _i: money_bag(field(order), order.currency_code)


ORDER: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "processedAt": lambda order, _i: order.created_at,
    "lineItems": lambda order, _i, **args: connection(
        order.line_items, args, sort=lambda li: li.id
    ),
    "fulfillmentOrders": lambda order, _i, **args: connection(
        order.fulfillment_orders, args, sort=lambda fo: fo.id
    ),
    "fulfillments": lambda order, _i, first=None, **_a: order.fulfillments[:first],
    "fulfillmentsCount": lambda order, _i: count(len(order.fulfillments)),
    "fulfillable": lambda order, _i: any(li.unfulfilled_quantity for li in order.line_items),
    "totalPriceSet": _order_money(lambda o: o.total_price),
    "subtotalPriceSet": _order_money(lambda o: o.total_price),
    "currentTotalPriceSet": _order_money(lambda o: o.total_price),
    "currentSubtotalPriceSet": _order_money(lambda o: o.total_price),
    "totalOutstandingSet": _order_money(lambda _o: Decimal("0")),
    "fullyPaid": lambda order, _i: order.display_financial_status == "PAID",
    "test": lambda _order, _i: False,
    "closed": lambda order, _i: order.display_fulfillment_status == "FULFILLED",
    "confirmed": lambda _order, _i: True,
    "sourceName": lambda _order, _i: "web",
    "tags": lambda _order, _i: [],
    "requiresShipping": lambda _order, _i: True,
}

MAILING_ADDRESS: dict[str, Resolver] = {
    "id": lambda address, _i: f"{gid('MailingAddress', address.id)}?model_name=Address",
    "countryCode": lambda address, _i: address.country_code_v2,
    "coordinatesValidated": lambda _address, _i: False,
    "formatted": lambda address, _i, withName=False, **_a: [
        line
        for line in (
            address.name if withName else None,
            address.address1,
            address.address2,
            " ".join(p for p in (address.zip, address.city, address.province_code) if p),
            address.country or address.country_code_v2,
        )
        if line
    ],
}

LINE_ITEM: dict[str, Resolver] = {
    "id": _id,
    "name": lambda line, _i: line.title,
    "currentQuantity": lambda line, _i: line.current_quantity,
    "product": lambda line, _i: line.variant.product if line.variant else None,
    "originalUnitPriceSet": lambda line, i: money_bag(line.price, store_of(i).currency),
    "discountedUnitPriceSet": lambda line, i: money_bag(line.price, store_of(i).currency),
    "originalTotalSet": lambda line, i: money_bag(line.price * line.quantity, store_of(i).currency),
    "variantTitle": lambda line, _i: line.variant.title if line.variant else None,
    "requiresShipping": lambda _line, _i: True,
}


def _assigned_location(fulfillment_order: FulfillmentOrder, _info: Info) -> dict[str, Any]:
    location = fulfillment_order.location
    return {"name": location.name, "location": location, "countryCode": "US"}


def _order_fulfillments(fulfillment_order: FulfillmentOrder) -> list[Fulfillment]:
    return [
        f
        for f in fulfillment_order.order.fulfillments
        if any(line in fulfillment_order.lines for line, _ in f.lines)
    ]


FULFILLMENT_ORDER: dict[str, Resolver] = {
    "id": _id,
    "orderId": lambda fo, _i: gid("Order", fo.order.id),
    "orderName": lambda fo, _i: fo.order.name,
    "lineItems": lambda fo, _i, **args: connection(fo.lines, args, sort=lambda line: line.id),
    "assignedLocation": _assigned_location,
    "fulfillments": lambda fo, _i, **args: connection(
        _order_fulfillments(fo), args, sort=lambda f: f.id
    ),
    "requestStatus": lambda _fo, _i: "UNSUBMITTED",
}

FULFILLMENT_ORDER_LINE_ITEM: dict[str, Resolver] = {
    "id": _id,
    "sku": lambda line, _i: line.line_item.sku,
    "variant": lambda line, _i: line.line_item.variant,
    "inventoryItemId": lambda line, _i: (
        gid("InventoryItem", line.line_item.variant.inventory_item.id)
        if line.line_item.variant
        else None
    ),
    "productTitle": lambda line, _i: (
        line.line_item.variant.product.title if line.line_item.variant else line.line_item.title
    ),
    "variantTitle": lambda line, _i: (
        line.line_item.variant.title if line.line_item.variant else None
    ),
}


def _tracking(
    fulfillment: Fulfillment, _info: Info, first: int | None = None
) -> list[dict[str, Any]]:
    entries = [
        {"company": t.company, "number": t.number, "url": t.url} for t in fulfillment.tracking
    ]
    return entries[:first]


FULFILLMENT: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "trackingInfo": _tracking,
    "displayStatus": lambda _f, _i: "FULFILLED",
    "fulfillmentOrders": lambda f, _i, **args: connection(
        list({line_fo.id: line_fo for line_fo in _fulfillment_orders(f)}.values()),
        args,
        sort=lambda fo: fo.id,
    ),
}


def _fulfillment_orders(fulfillment: Fulfillment) -> list[FulfillmentOrder]:
    return [
        fo
        for fo in fulfillment.order.fulfillment_orders
        if any(line in fo.lines for line, _ in fulfillment.lines)
    ]


CUSTOMER: dict[str, Resolver] = {
    "id": _id,
    "legacyResourceId": _legacy,
    "defaultEmailAddress": lambda c, _i: (
        {"emailAddress": c.email, "marketingState": "NOT_SUBSCRIBED", "validFormat": True}
        if c.email
        else None
    ),
    "defaultPhoneNumber": lambda c, _i: {"phoneNumber": c.phone} if c.phone else None,
    "verifiedEmail": lambda c, _i: bool(c.email),
    "locale": lambda _c, _i: "en",
    "defaultAddress": lambda _c, _i: None,
}


def _group_changes(
    group: AdjustmentGroup,
    _info: Info,
    inventoryItemIds: list[str] | None = None,
    locationIds: list[str] | None = None,
    quantityNames: list[str] | None = None,
) -> list[Any]:
    items = {parse_gid(i, "InventoryItem") for i in inventoryItemIds} if inventoryItemIds else None
    locations = {parse_gid(i, "Location") for i in locationIds} if locationIds else None
    return [
        change
        for change in group.changes
        if (items is None or change.item.id in items)
        and (locations is None or change.location.id in locations)
        and (quantityNames is None or change.name in quantityNames)
    ]


ADJUSTMENT_GROUP: dict[str, Resolver] = {
    "id": _id,
    "changes": _group_changes,
    "app": lambda _g, _i: None,
    "staffMember": lambda _g, _i: None,
}

CALCULATED_ORDER: dict[str, Resolver] = {
    "id": _id,
    "lineItems": lambda edit, _i, **args: connection(
        [edit.line(line) for line in edit.order.line_items], args, sort=lambda c: c.id
    ),
    "addedLineItems": lambda _edit, _i, **args: connection([], args, sort=lambda c: c.id),
    "originalOrder": lambda edit, _i: edit.order,
    "committed": lambda edit, _i: edit.committed,
    "subtotalLineItemsQuantity": lambda edit, _i: sum(
        edit.line(line).quantity for line in edit.order.line_items
    ),
}

CALCULATED_LINE_ITEM: dict[str, Resolver] = {
    "id": _id,
    "sku": lambda calculated, _i: calculated.line_item.sku,
    "title": lambda calculated, _i: calculated.line_item.title,
    "variant": lambda calculated, _i: calculated.line_item.variant,
    "restockable": lambda calculated, _i: calculated.editable_quantity_before_changes > 0,
    "originalUnitPriceSet": lambda c, i: money_bag(c.line_item.price, store_of(i).currency),
}

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Product": PRODUCT,
    "ProductOption": PRODUCT_OPTION,
    "ProductOptionValue": PRODUCT_OPTION_VALUE,
    "ProductVariant": PRODUCT_VARIANT,
    "InventoryItem": INVENTORY_ITEM,
    "InventoryLevel": INVENTORY_LEVEL,
    "Location": LOCATION,
    "Order": ORDER,
    "LineItem": LINE_ITEM,
    "MailingAddress": MAILING_ADDRESS,
    "FulfillmentOrder": FULFILLMENT_ORDER,
    "FulfillmentOrderLineItem": FULFILLMENT_ORDER_LINE_ITEM,
    "Fulfillment": FULFILLMENT,
    "Customer": CUSTOMER,
    "InventoryAdjustmentGroup": ADJUSTMENT_GROUP,
    "CalculatedOrder": CALCULATED_ORDER,
    "CalculatedLineItem": CALCULATED_LINE_ITEM,
}
