"""Listings: a product as one channel will show it, and the rules that shape it.

`ListingRule` is the merchant's per-channel configuration. `ListingDraft` is the
channel-neutral result of applying it to a product (titles rendered and cut, description
formatted, category and attributes mapped, images limited, each variant priced and given
its quantity). A `ListingFormat`, one per channel kind, turns a draft into the exact
requests that channel's API takes and adds the channel's own problems.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol

from domain.money import Money

if TYPE_CHECKING:
    # A draft carries the product's own options, images and dimensions: the catalog's values,
    # named for typing only (the catalog builds drafts; channels never import it at run time).
    from domain.catalog.model import Dimensions, Image, ProductOption


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # intended content differs from what the channel confirmed
    ACTIVE = "active"
    ERROR = "error"  # fails the channel's validation: never sent until fixed
    ENDED = "ended"


class SelectorKind(StrEnum):
    NONE = "none"  # list nothing automatically
    ALL = "all"
    TAGS = "tags"
    CATEGORIES = "categories"  # category ids; a category selects its whole subtree
    BRANDS = "brands"


class DescriptionFormat(StrEnum):
    HTML = "html"
    PLAIN_TEXT = "plain_text"


CHANNEL_IMAGE_LIMITS: Final[Mapping[str, int]] = MappingProxyType(
    {"shopify": 250, "amazon": 9, "ebay": 24, "mercadolibre": 10, "webstore": 250}
)
"""The most images each channel kind takes per listing."""

DEFAULT_TITLE_TEMPLATE: Final = "{brand} {title} {options}"


@dataclass(frozen=True, slots=True)
class Selector:
    kind: SelectorKind = SelectorKind.NONE
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListingRule:
    """How one channel lists products. Limits left None take the channel kind's default."""

    selector: Selector = field(default_factory=Selector)
    title_template: str = DEFAULT_TITLE_TEMPLATE
    title_limit: int | None = None
    description_format: DescriptionFormat = DescriptionFormat.HTML
    category_map: Mapping[str, str] = field(default_factory=dict)  # hub category id -> channel's
    attribute_map: Mapping[str, str] = field(default_factory=dict)  # hub name -> channel name
    required_attributes: tuple[str, ...] = ()  # channel attribute names that must be present
    image_limit: int | None = None
    require_gtin: bool = False
    # Channel-specific settings the formats read: Amazon "productType" and "marketplaceId",
    # eBay "marketplaceId", "merchantLocationKey" and policy ids, MercadoLibre "listingTypeId".
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a listing cannot be sent as it is; `field` points into the product or rule."""

    field: str
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class DraftVariant:
    sku: str
    title: str  # the variant's own title, for channels that title each variant
    options: tuple[tuple[str, str], ...]  # (option name, value), in option order
    price: Money
    compare_at: Money | None
    quantity: int
    barcode: str | None
    weight_grams: int | None
    dimensions: Dimensions | None
    image_urls: tuple[str, ...]  # images that show this variant


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """A product as one channel will receive it, before the channel's own shape is applied."""

    channel_id: uuid.UUID
    channel_kind: str
    product_id: uuid.UUID
    handle: str
    title: str
    description: str
    brand: str | None
    channel_category_id: str | None
    attributes: tuple[tuple[str, str], ...]  # mapped to the channel's names
    options: tuple[ProductOption, ...]
    images: tuple[Image, ...]  # within the channel's limit, by position
    variants: tuple[DraftVariant, ...]
    currency: str
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelRequest:
    """One call to a channel's API, exactly as the adapter would make it."""

    method: str  # "POST", "PUT", ... (GraphQL APIs: "POST")
    path: str
    body: Mapping[str, Any]


class ListingFormat(Protocol):
    """One channel kind's listing shape: its own validation and its native requests."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        """What this channel would reject in `draft` (limits, required fields...)."""
        ...

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        """The calls that create or replace the listing, in the order they must be made."""
        ...


@dataclass(frozen=True, slots=True)
class DriftSighting:
    """A figure the channel showed below what Nexo expected, seen by reconciliation and not
    yet decided (its sale's order may still be coming): the figure, the confirmed figure it
    drifted from and when that was confirmed, and when it was read."""

    quantity: int
    drifted_from: int | None
    drifted_at: datetime | None
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ListingItem:
    """One SKU of a listing: what Nexo intends the channel to show, and what it confirmed."""

    sku: str
    intended_price: Money | None
    intended_compare_at: Money | None
    intended_quantity: int
    confirmed_price: Money | None = None
    confirmed_quantity: int | None = None
    confirmed_at: datetime | None = None
    external_id: str | None = None
    refs: Mapping[str, str] = field(default_factory=dict)  # the channel's ids of the SKU
    sighting: DriftSighting | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    id: uuid.UUID
    channel_id: uuid.UUID
    product_id: uuid.UUID
    status: ListingStatus
    problems: tuple[Problem, ...]
    content_hash: str | None  # of the intended content, prices and quantities aside
    confirmed_content_hash: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    items: tuple[ListingItem, ...] = ()
