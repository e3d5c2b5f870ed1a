"""One shop's state, its id sequences and its sense of time.

Numeric ids increase across all kinds (as Shopify's do), so an id of one kind never finds a record
of another. Time is the injected wall clock's, read afresh each time and truncated to whole seconds
as Shopify's timestamps are (never a start time plus elapsed: anchored to a truncated start, the
shop's clock ran up to a second behind and its orders looked older than the web store's).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sandbox.shopify.models import (
    AdjustmentGroup,
    Customer,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    Level,
    Location,
    Order,
    OrderEdit,
    Product,
    Variant,
)

Publish = Callable[[str, dict[str, Any]], None]


def wall_time() -> datetime:
    return datetime.now(UTC)


@dataclass
class IdempotentResult:
    """A mutation result kept under its idempotency key, replayed on a retry."""

    field_name: str
    fingerprint: str
    payload: dict[str, Any]
    failed: bool


@dataclass
class Store:
    shop: str
    currency: str
    wall_clock: Callable[[], datetime]
    publish: Publish = lambda topic, body: None
    locations: dict[int, Location] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    items: dict[int, InventoryItem] = field(default_factory=dict)
    levels: dict[tuple[int, int], Level] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fulfillment_orders: dict[int, FulfillmentOrder] = field(default_factory=dict)
    fulfillments: dict[int, Fulfillment] = field(default_factory=dict)
    order_edits: dict[int, OrderEdit] = field(default_factory=dict)
    adjustment_groups: dict[int, AdjustmentGroup] = field(default_factory=dict)
    idempotency: dict[str, IdempotentResult] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (product id, UTC day) -> sessions that viewed the product's page (ShopifyQL's
    # view_sessions, see `shopifyql`)
    views: dict[tuple[int, date], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids: Iterator[int] = itertools.count(1001)
        self._location_ids: Iterator[int] = itertools.count(1)
        self._order_numbers: Iterator[int] = itertools.count(1001)

    def next_id(self) -> int:
        return next(self._ids)

    def next_location_id(self) -> int:
        return next(self._location_ids)

    def next_order_number(self) -> int:
        return next(self._order_numbers)

    def now(self) -> datetime:
        return self.wall_clock().astimezone(UTC).replace(microsecond=0)

    @property
    def primary_location(self) -> Location:
        return self.locations[min(self.locations)]

    def variants_by_sku(self, sku: str) -> list[Variant]:
        # Shopify does not enforce unique SKUs: several variants may share one.
        return [v for v in self.variants.values() if v.sku == sku]

    def product_by_handle(self, handle: str) -> Product | None:
        return next((p for p in self.products.values() if p.handle == handle), None)

    def levels_of(self, item: InventoryItem) -> list[Level]:
        return [level for (item_id, _), level in self.levels.items() if item_id == item.id]

    def level(self, item_id: int, location_id: int) -> Level | None:
        return self.levels.get((item_id, location_id))

    def stock(self, item: InventoryItem, location: Location) -> Level:
        """The item's level at the location, created (stocked there) when it has none."""
        key = (item.id, location.id)
        if key not in self.levels:
            now = self.now()
            self.levels[key] = Level(item=item, location=location, created_at=now, updated_at=now)
        return self.levels[key]
