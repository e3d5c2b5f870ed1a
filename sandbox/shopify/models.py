"""The records a Shopify shop keeps, as the Admin API exposes them.

Products own options and variants; each variant owns exactly one inventory item; stock lives in
inventory levels keyed by (inventory item, location) with named quantities. Orders own line items,
fulfillment orders (one per location) and fulfillments. Attribute names are the snake_case of the
GraphQL field names so that plain fields resolve without a resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

# Named quantities that make up `on_hand` (Shopify: on_hand = available + committed + unavailable).
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control")
QUANTITY_NAMES = (*ON_HAND_PARTS, "incoming", "on_hand")


@dataclass(eq=False)
class Location:
    typename: ClassVar[str] = "Location"
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    fulfills_online_orders: bool = True


@dataclass(eq=False)
class OptionValue:
    typename: ClassVar[str] = "ProductOptionValue"
    id: int
    name: str


@dataclass(eq=False)
class ProductOption:
    typename: ClassVar[str] = "ProductOption"
    id: int
    name: str
    position: int
    option_values: list[OptionValue]


@dataclass(eq=False)
class InventoryItem:
    typename: ClassVar[str] = "InventoryItem"
    id: int
    variant: Variant
    tracked: bool
    requires_shipping: bool
    cost: Decimal | None
    created_at: datetime
    updated_at: datetime

    @property
    def sku(self) -> str | None:
        # Shopify keeps one SKU: the variant's and its inventory item's are the same field.
        return self.variant.sku


@dataclass(eq=False)
class Variant:
    typename: ClassVar[str] = "ProductVariant"
    id: int
    product: Product
    options: dict[str, str]  # option name -> value name
    sku: str | None
    price: Decimal
    compare_at_price: Decimal | None
    barcode: str | None
    position: int
    created_at: datetime
    updated_at: datetime
    taxable: bool = True
    inventory_policy: str = "DENY"
    file: dict[str, Any] | None = None
    inventory_item: InventoryItem = field(init=False)

    @property
    def title(self) -> str:
        return " / ".join(self.options.values()) or "Default Title"


@dataclass(eq=False)
class Product:
    typename: ClassVar[str] = "Product"
    id: int
    handle: str
    title: str
    created_at: datetime
    updated_at: datetime
    status: str = "ACTIVE"
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    description_html: str = ""
    category: str | None = None
    files: list[dict[str, Any]] = field(
        default_factory=list
    )  # as given: the sandbox keeps no media
    options: list[ProductOption] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)


@dataclass(eq=False)
class Level:
    typename: ClassVar[str] = "InventoryLevel"
    item: InventoryItem
    location: Location
    created_at: datetime
    updated_at: datetime
    quantities: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        if name == "on_hand":
            return sum(self.quantities.get(part, 0) for part in ON_HAND_PARTS)
        return self.quantities.get(name, 0)


@dataclass(eq=False)
class Customer:
    typename: ClassVar[str] = "Customer"
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email or ""


@dataclass(eq=False)
class LineItem:
    typename: ClassVar[str] = "LineItem"
    id: int
    variant: Variant | None
    sku: str | None
    title: str
    quantity: int  # as ordered
    price: Decimal
    fulfilled_quantity: int = 0
    quantity_change: int = 0  # what order edits removed (negative) or added

    @property
    def current_quantity(self) -> int:
        return self.quantity + self.quantity_change

    @property
    def unfulfilled_quantity(self) -> int:
        return self.current_quantity - self.fulfilled_quantity


@dataclass(eq=False)
class FulfillmentOrderLine:
    typename: ClassVar[str] = "FulfillmentOrderLineItem"
    id: int
    line_item: LineItem
    total_quantity: int
    remaining_quantity: int


@dataclass(eq=False)
class FulfillmentOrder:
    typename: ClassVar[str] = "FulfillmentOrder"
    id: int
    order: Order
    location: Location
    lines: list[FulfillmentOrderLine]
    created_at: datetime
    updated_at: datetime
    status: str = "OPEN"


@dataclass(eq=False)
class Tracking:
    company: str | None
    number: str | None
    url: str | None


@dataclass(eq=False)
class Fulfillment:
    typename: ClassVar[str] = "Fulfillment"
    id: int
    order: Order
    name: str
    lines: list[tuple[FulfillmentOrderLine, int]]
    tracking: list[Tracking]
    created_at: datetime
    updated_at: datetime
    status: str = "SUCCESS"

    @property
    def total_quantity(self) -> int:
        return sum(quantity for _, quantity in self.lines)


@dataclass(eq=False)
class MailingAddress:
    """Where an order ships; only what the customer gave (no geocoding, no validation)."""

    typename: ClassVar[str] = "MailingAddress"
    id: int
    first_name: str | None = None
    last_name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code_v2: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str | None:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


@dataclass(eq=False)
class Order:
    typename: ClassVar[str] = "Order"
    id: int
    number: int
    customer: Customer | None
    email: str | None
    line_items: list[LineItem]
    currency_code: str
    created_at: datetime
    updated_at: datetime
    display_financial_status: str = "PAID"
    cancelled_at: datetime | None = None
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    shipping_address: MailingAddress | None = None

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def display_fulfillment_status(self) -> str:
        fulfilled = sum(line.fulfilled_quantity for line in self.line_items)
        if fulfilled == 0:
            return "UNFULFILLED"
        if all(line.unfulfilled_quantity == 0 for line in self.line_items):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"

    @property
    def total_price(self) -> Decimal:
        return sum((line.price * line.current_quantity for line in self.line_items), Decimal("0"))


@dataclass(eq=False)
class OrderEdit:
    """An order edit session (its CalculatedOrder and OrderEditSession share its number):
    quantities staged by orderEditSetQuantity, applied by orderEditCommit."""

    typename: ClassVar[str] = "CalculatedOrder"
    id: int
    order: Order
    created_at: datetime
    staged: dict[int, tuple[int, bool]] = field(default_factory=dict)  # line: (quantity, restock)
    committed: bool = False

    def line(self, line: LineItem) -> CalculatedLine:
        quantity, restock = self.staged.get(line.id, (line.current_quantity, False))
        return CalculatedLine(line, quantity, restock)


@dataclass(eq=False)
class CalculatedLine:
    """A line item as an order edit would leave it; its id is the line item's number."""

    typename: ClassVar[str] = "CalculatedLineItem"
    line_item: LineItem
    quantity: int
    restocking: bool

    @property
    def id(self) -> int:
        return self.line_item.id

    @property
    def editable_quantity(self) -> int:
        return self.quantity - self.line_item.fulfilled_quantity

    @property
    def editable_quantity_before_changes(self) -> int:
        return self.line_item.unfulfilled_quantity


@dataclass(eq=False)
class AdjustmentGroup:
    """What one inventory mutation changed: Shopify's InventoryAdjustmentGroup."""

    typename: ClassVar[str] = "InventoryAdjustmentGroup"
    id: int
    reason: str
    reference_document_uri: str | None
    created_at: datetime
    changes: list[Change]


@dataclass(eq=False)
class Change:
    typename: ClassVar[str] = "InventoryChange"
    name: str
    delta: int
    quantity_after_change: int | None
    item: InventoryItem
    location: Location
    ledger_document_uri: str | None = None
