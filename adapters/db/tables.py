"""The relational schema, shared by PostgreSQL and SQLite; alembic migrations mirror it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import SchemaItem

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Nexo stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def only_on(dialect: str, index: Index) -> Index:
    """An index one backend has and the other cannot (a GIN index): created there only, and
    compared there only (`on_its_backend`, alembic's include_object)."""
    index.info["dialect"] = dialect
    return index.ddl_if(dialect=dialect)


def on_its_backend(item: object, dialect: str) -> bool:
    """Whether a schema item belongs on this backend (see `only_on`)."""
    info = getattr(item, "info", None) or {}
    return bool(info.get("dialect", dialect) == dialect)


api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True, default=new_id),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # A rotated key's former secret, valid beside the new one until its deadline.
    Column("previous_key_hash", String(64), nullable=True, unique=True),
    Column("previous_valid_until", UtcDateTime, nullable=True),
    # A partner key's location: the only one it may see (set for partner keys alone).
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=True),
    CheckConstraint("role IN ('admin', 'staff', 'readonly', 'partner')", name="role_known"),
    CheckConstraint("(role = 'partner') = (location_id IS NOT NULL)", name="partner_located"),
)

# Every admin action (keys, channels, credentials, policies): who, when, what, the subject
# before and after. Never a secret: inputs are stored redacted, snapshots hold none.
admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=True),
    Column("outcome", String(200), nullable=False),
    Column("input", JsonDocument, nullable=False),
    Column("before", JsonDocument, nullable=True),
    Column("after", JsonDocument, nullable=True),
    Index("ix_admin_audit_at", "at", "id"),
)


locations = Table(
    "locations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "kind IN ('warehouse', 'store', '3pl', 'dropship', 'channel_managed')", name="kind_known"
    ),
)

# Where a location ships to: a country, or one region of it (ISO 3166-2's part after the
# dash). A location with none ships everywhere.
location_zones = Table(
    "location_zones",
    metadata,
    Column("location_id", Uuid, ForeignKey("locations.id"), primary_key=True),
    Column("country", String(2), primary_key=True),
    Column("region", String(3), primary_key=True),  # "" for the whole country
)

inventory_items = Table(
    "inventory_items",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("low_stock_threshold", Integer, nullable=True),
    # Sum of `on_hand - reserved` over the SKU's sellable levels, moved in the same atomic
    # step as each level: threshold crossings are read from it exactly, once each.
    Column("available", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("sku", String(64), ForeignKey("inventory_items.sku"), nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    # Where the SKU's units sit at the location (aisle-shelf), for pick lists; not a stock
    # figure, so setting it moves no version.
    Column("bin", String(32), nullable=True),
    UniqueConstraint("sku", "location_id", name="uq_stock_levels_sku_location"),
    # The invariant the whole inventory rests on, enforced by the database itself.
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
)

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("sku", String(64), ForeignKey("inventory_items.sku"), nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("operation_key", String(200), nullable=True),
    Column("reference", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("reservation_id", Uuid, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_stock_movements_sku_created_at", "sku", "created_at"),
)

operations = Table(
    "operations",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("result", JsonDocument, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("sku", String(64), ForeignKey("inventory_items.sku"), nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint(
        "status IN ('active', 'committed', 'released', 'expired')", name="status_known"
    ),
    Index("ix_reservations_status_expires_at", "status", "expires_at"),
    Index("ix_reservations_sku_created_at", "sku", "created_at"),
    Index("ix_reservations_reference", "reference"),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("buffer_quantity", Integer, nullable=False),
    Column("allocation_percent", Integer, nullable=False),
    Column("max_quantity", Integer, nullable=True),
    Column("end_when_below", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "kind IN ('shopify', 'amazon', 'ebay', 'mercadolibre', 'webstore')", name="kind_known"
    ),
    CheckConstraint("allocation_percent BETWEEN 0 AND 100", name="allocation_is_percent"),
)

channel_locations = Table(
    "channel_locations",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("location_id", Uuid, ForeignKey("locations.id"), primary_key=True),
    # The channel's location order (its orders ship from the first that can): as given.
    Column("position", Integer, nullable=False, server_default="0"),
)

channel_sku_rules = Table(
    "channel_sku_rules",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("sku", String(64), ForeignKey("inventory_items.sku"), primary_key=True),
    Column("buffer_quantity", Integer, nullable=True),
    Column("allocation_percent", Integer, nullable=True),
    Column("max_quantity", Integer, nullable=True),
    Column("end_when_below", Integer, nullable=True),
    Column("blocked", Boolean, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(32), nullable=False),
    # None for an inbound event that names no SKU the hub knows (e.g. it could not be read).
    Column("sku", String(64), ForeignKey("inventory_items.sku"), nullable=True),
    Column("available", Integer, nullable=False),
    Column("threshold", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(100), nullable=True),
    # Sync alerts (a dead-lettered update) name the channel and the channel's last answer.
    Column("channel_id", Uuid, nullable=True),
    Column("message", Text, nullable=True),
    Index("ix_alerts_created_at", "created_at"),
)

# --- catalog -------------------------------------------------------------------------------

categories = Table(
    "categories",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("parent_id", Uuid, ForeignKey("categories.id"), nullable=True),
    Column("path", String(1000), nullable=False, unique=True),
)

products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("handle", String(255), nullable=False, unique=True),
    Column("title", String(255), nullable=False),
    Column("description_html", Text, nullable=False),
    Column("brand", String(100), nullable=True),
    Column("category_id", Uuid, ForeignKey("categories.id"), nullable=True),
    Column("tags", JsonDocument, nullable=False),
    Column("attributes", JsonDocument, nullable=False),
    Column("options", JsonDocument, nullable=False),
    Column("status", String(16), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    Index("ix_products_created_at_id", "created_at", "id"),
    Index("ix_products_brand", "brand"),
    Index("ix_products_category_id", "category_id"),
)

variants = Table(
    "variants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("product_id", Uuid, ForeignKey("products.id"), nullable=False),
    Column("sku", String(64), ForeignKey("inventory_items.sku"), nullable=False, unique=True),
    Column("option_values", JsonDocument, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("barcode", String(14), nullable=True),
    Column("cost_minor", BigInteger, nullable=True),
    Column("weight_grams", Integer, nullable=True),
    Column("length_mm", Integer, nullable=True),
    Column("width_mm", Integer, nullable=True),
    Column("height_mm", Integer, nullable=True),
    Column("position", Integer, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
    CheckConstraint("cost_minor IS NULL OR cost_minor >= 0", name="cost_not_negative"),
    Index("ix_variants_product_id", "product_id"),
)

product_images = Table(
    "product_images",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("product_id", Uuid, ForeignKey("products.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("alt_text", String(512), nullable=True),
    Column("position", Integer, nullable=False),
    Column("skus", JsonDocument, nullable=False),
    Index("ix_product_images_product_id", "product_id"),
)

currency_rates = Table(
    "currency_rates",
    metadata,
    Column("source", String(3), primary_key=True),
    Column("target", String(3), primary_key=True),
    Column("rate", String(40), nullable=False),  # a decimal kept exactly, as text
    Column("updated_at", UtcDateTime, nullable=False),
)

# Each rate as it stood on the day it was set (the day's last): past sales convert at these.
currency_rate_days = Table(
    "currency_rate_days",
    metadata,
    Column("source", String(3), primary_key=True),
    Column("target", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("rate", String(40), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

sku_price_overrides = Table(
    "sku_price_overrides",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("sku", String(64), ForeignKey("variants.sku"), primary_key=True),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Index("ix_sku_price_overrides_sku", "sku"),
)

sale_prices = Table(
    "sale_prices",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("sku", String(64), ForeignKey("variants.sku"), primary_key=True),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=True),
    Index("ix_sale_prices_sku", "sku"),
)

channel_configs = Table(
    "channel_configs",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("sync_enabled", Boolean, nullable=False),
    Column("price_rule", JsonDocument, nullable=True),
    Column("listing_rule", JsonDocument, nullable=False),
    Column("credentials", LargeBinary, nullable=True),  # sealed: see adapters/secrets.py
    # What a stock edit made on the channel's side does: "hub_wins" or "accept_channel_edits".
    Column("stock_edit_policy", String(32), nullable=False, server_default="hub_wins"),
    # Who gets a unit two orders both want: "first_come", "channel_priority" or "manual".
    Column("conflict_policy", String(32), nullable=False, server_default="first_come"),
    # What becomes of this channel's line that lost a contested unit: "backorder" (kept,
    # short) or "cancel" (cancelled, and the channel told).
    Column("losing_lines", String(16), nullable=False, server_default="backorder"),
    # Who ships this channel's orders: "merchant" (the hub's locations) or "channel_managed"
    # (FBA-style: only the channel's channel_managed locations).
    Column("fulfilment", String(32), nullable=False, server_default="merchant"),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A channel's OAuth tokens (adapters/channel_kit/tokens.py), sealed like its credentials; the
# refresh token is the latest the channel issued (null: the credentials' own is current).
channel_tokens = Table(
    "channel_tokens",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("access_token", LargeBinary, nullable=True),
    Column("access_digest", String(64), nullable=True),  # sha256 of the access token
    Column("expires_at", UtcDateTime, nullable=True),
    Column("refresh_token", LargeBinary, nullable=True),
    Column("refreshed_at", UtcDateTime, nullable=True),
)

# A feed a relay created, by its document's digest, until its outcome is read (see
# `adapters/channel_kit/feeds.py`).
amazon_feeds = Table(
    "amazon_feeds",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("digest", String(64), primary_key=True),  # sha256 of the feed type and document
    Column("feed_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("product_id", Uuid, ForeignKey("products.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("problems", JsonDocument, nullable=False),
    Column("content_hash", String(64), nullable=True),
    Column("confirmed_content_hash", String(64), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel_id", "product_id", name="uq_listings_channel_product"),
    CheckConstraint(
        "status IN ('draft', 'pending', 'active', 'error', 'ended')", name="status_known"
    ),
    Index("ix_listings_product_id", "product_id"),
    Index("ix_listings_channel_status_created", "channel_id", "status", "created_at", "id"),
)

listing_items = Table(
    "listing_items",
    metadata,
    Column("listing_id", Uuid, ForeignKey("listings.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("currency", String(3), nullable=True),
    Column("intended_price_minor", BigInteger, nullable=True),
    Column("intended_compare_at_minor", BigInteger, nullable=True),
    Column("intended_quantity", Integer, nullable=False),
    Column("confirmed_price_minor", BigInteger, nullable=True),
    Column("confirmed_quantity", Integer, nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("refs", JsonDocument, nullable=True),  # the channel's ids of the SKU
    # A lowered figure reconciliation saw and has not decided yet (see domain/sync/reconcile):
    # the figure, the confirmed one it drifted from (and when that was confirmed), and when it
    # was read.
    Column("drift_quantity", Integer, nullable=True),
    Column("drift_from", Integer, nullable=True),
    Column("drift_from_at", UtcDateTime, nullable=True),
    Column("drift_seen_at", UtcDateTime, nullable=True),
    Index("ix_listing_items_sku", "sku"),
)

# --- sync ----------------------------------------------------------------------------------

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    # What the channel must hear about: "quantity" / "price" (key: a SKU), "listing" (key: a
    # listing id). Rows mark a key dirty; the relay reads the latest intended state itself.
    Column("kind", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    CheckConstraint(
        "status IN ('pending', 'retry', 'processing', 'done', 'dead')", name="status_known"
    ),
    # One pending row per key: a thousand changes to one SKU before the relay runs are one row.
    Index(
        "uq_outbox_pending_key",
        "channel_id",
        "kind",
        "key",
        unique=True,
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index("ix_outbox_channel_status_available", "channel_id", "status", "available_at"),
)

# Quantities the relay sent and has not heard back (see domain/sync/echoes.py), recorded
# before each call: a shop reporting one of them reports Nexo's own push, not an edit.
pushed_quantities = Table(
    "pushed_quantities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("pushed_at", UtcDateTime, nullable=False),
    Index("ix_pushed_quantities_channel_sku", "channel_id", "sku", "pushed_at"),
)

# Spells each channel showed a SKU at 0: opened when a confirmed quantity of 0 is recorded,
# closed by the first confirmed quantity above it (adapters/db/stockout_spells.py). At most one
# open spell per channel and SKU.
stockout_spells = Table(
    "stockout_spells",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Index(
        "uq_stockout_spells_open",
        "channel_id",
        "sku",
        unique=True,
        postgresql_where=text("ended_at IS NULL"),
        sqlite_where=text("ended_at IS NULL"),
    ),
    Index("ix_stockout_spells_started", "started_at"),
)

# How many times each channel's buyers viewed the listing showing a SKU, per UTC day, as the
# channel reports it (eBay's traffic report: LISTING_VIEWS_TOTAL; Shopify's product page sessions;
# MercadoLibre's item visits). Re-reading a day replaces it.
channel_views = Table(
    "channel_views",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("views", Integer, nullable=False),
    Column("read_at", UtcDateTime, nullable=False),
    CheckConstraint("views >= 0", name="views_not_negative"),
    Index("ix_channel_views_day", "day"),
)

sync_log = Table(
    "sync_log",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("keys", JsonDocument, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("message", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_sync_log_channel_created", "channel_id", "created_at", "id"),
)

# --- inbox ---------------------------------------------------------------------------------

inbox = Table(
    "inbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("event_id", String(200), nullable=False),  # the channel's: a redelivery repeats it
    Column("topic", String(100), nullable=False),
    # "order" / "stock_edit" / "other" once parsed; order rows wait for order ingestion.
    Column("kind", String(16), nullable=True),
    Column("headers", JsonDocument, nullable=False),  # the channel's own (X-Shopify-*) only
    Column("body", Text, nullable=False),  # the payload as received
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("sku", String(64), nullable=True),  # the hub's SKU a stock edit was about
    Column("occurred_at", UtcDateTime, nullable=True),  # when the channel says it happened
    # A stock edit, once decided: the change it makes to the hub's stock (0: none).
    Column("delta", Integer, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime, nullable=True),
    UniqueConstraint("channel_id", "event_id", name="uq_inbox_channel_event"),
    CheckConstraint(
        "status IN ('received', 'processed', 'failed', 'ignored')", name="status_known"
    ),
    Index("ix_inbox_status_received", "status", "received_at"),
    Index("ix_inbox_channel_received", "channel_id", "received_at", "id"),
    Index("ix_inbox_channel_sku_occurred", "channel_id", "sku", "occurred_at"),
)


# --- orders --------------------------------------------------------------------------------

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("number", String(100), nullable=True),
    Column("status", String(32), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    # placed_at's UTC day as days since 1970-01-01 (adapters/db/dialect.day_number): reports
    # group by it, and the planner knows how many there are.
    Column("placed_day", Integer, nullable=False),
    Column("channel_updated_at", UtcDateTime, nullable=False),
    Column("customer_name", String(300), nullable=True),
    Column("customer_email", String(300), nullable=True),
    Column("customer_phone", String(100), nullable=True),
    Column("customer_buyer_id", String(300), nullable=True),  # the channel's id for the buyer
    # The buyer's identity once matched (domain/customers/linking.py); None: still to match.
    Column("customer_identity_id", Uuid, nullable=True),
    Column("shipping_address", JsonDocument, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("total_minor", BigInteger, nullable=True),
    Column("needs_attention", Boolean, nullable=False),
    Column("attention_reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # One channel order is one Nexo order, however many times it is delivered.
    UniqueConstraint("channel_id", "external_id", name="uq_orders_channel_external"),
    Index("ix_orders_placed_at_id", "placed_at", "id"),
    Index("ix_orders_status", "status"),
    Index("ix_orders_customer_identity_id", "customer_identity_id"),
    # The orders whose buyer is still to match: few, whatever the size of the order book.
    Index(
        "ix_orders_unmatched",
        "placed_at",
        postgresql_where=text("customer_identity_id IS NULL"),
        sqlite_where=text("customer_identity_id IS NULL"),
    ),
)

TO_PICK = "status IN ('allocated', 'partially_shipped') AND stage IS NULL"

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("channel_line_id", String(200), nullable=False),
    Column("channel_sku", String(200), nullable=True),
    Column("sku", String(64), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("status", String(32), nullable=False),
    Column("location_id", Uuid, nullable=True),
    Column("reservation_id", Uuid, nullable=True),
    Column("routed_by", String(300), nullable=True),
    Column("shipped_quantity", Integer, nullable=False),
    # What the channel took off the line's price (minor units of `currency`), for reports.
    Column("discount_minor", BigInteger, nullable=False, server_default="0"),
    # The variant's cost when the line was sold (or mapped to its SKU): its cost of goods.
    Column("unit_cost_minor", BigInteger, nullable=True),
    Column("cost_currency", String(3), nullable=True),
    Column("stage", String(16), nullable=True),  # picked / packed (domain PickStage)
    # The order's channel and placing time (and its day), copied for the reports: they sum
    # lines without joining their orders.
    Column("channel_id", Uuid, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("placed_day", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_order_lines_order_id", "order_id"),
    Index("ix_order_lines_placed_at", "placed_at"),
    Index("ix_order_lines_sku_status", "sku", "status"),
    # Backordered lines, for the sweep that fills them (empty when nothing is short).
    Index(
        "ix_order_lines_short",
        "sku",
        postgresql_where=text("status = 'short'"),
        sqlite_where=text("status = 'short'"),
    ),
    # Lines waiting to be picked, per location, oldest placed first (pick lists).
    Index(
        "ix_order_lines_to_pick",
        "location_id",
        "placed_at",
        postgresql_where=text(TO_PICK),
        sqlite_where=text(TO_PICK),
    ),
)

# Orders whose allocation is due, recorded with the order (an allocation outbox): the run that
# holds the lease reserves it; the sweep takes over a lease left unrenewed (a crashed run).
allocations_due = Table(
    "allocations_due",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id"), primary_key=True),
    Column("due_since", UtcDateTime, nullable=False),
    Column("lease", Uuid, nullable=True),  # the run that holds it (None: nobody)
    Column("claimed_at", UtcDateTime, nullable=False),
    # The sweep, every second or two, asks for leases claimed before a time.
    Index("ix_allocations_due_claimed_at", "claimed_at"),
)

# What the channel charges the merchant for an order (commission, payment processing…).
order_fees = Table(
    "order_fees",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel_line_id", String(200), nullable=True),  # the line it is for, if one
    # The order's channel and placing time (and its day), copied for the reports.
    Column("channel_id", Uuid, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("placed_day", Integer, nullable=False),
    Index("ix_order_fees_order_id", "order_id"),
    Index("ix_order_fees_placed_at", "placed_at"),
)

# The sales report's figures per channel (`sales_rollup`) and per SKU (`sales_rollup_sku`; ''
# for none), UTC day of sale and currencies (of the sale, of the cost; '' for none), kept by
# the order book's writer (adapters/db/sales_rollup.py): each change to an order appends its
# figures' difference (`compacted` false) in the change's own transaction; a periodic job
# folds appended rows into one compacted row per key. A report by channel or SKU, and time,
# sums both kinds.
ROLLUP_FIGURES = (
    "orders", "cancelled_orders", "units_ordered", "units_cancelled", "units_returned",
    "gross", "discounts", "cancellations", "returns", "cogs", "units_without_cost", "fees",
)  # fmt: skip


def _rollup(name: str, key: Column[Any]) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        key,
        Column("day", Integer, nullable=False),  # days since 1970-01-01, as orders.placed_day
        Column("currency", String(3), nullable=False),
        Column("cost_currency", String(3), nullable=False),
        Column("compacted", Boolean, nullable=False),
        *(Column(figure, BigInteger, nullable=False) for figure in ROLLUP_FIGURES),
        Index(f"ix_{name}_day", "day"),
        # One compacted row per key: what the compaction adds appended rows into.
        Index(
            f"uq_{name}_key",
            key.name,
            "day",
            "currency",
            "cost_currency",
            unique=True,
            postgresql_where=text("compacted"),
            sqlite_where=text("compacted"),
        ),
    )


sales_rollup = _rollup("sales_rollup", Column("channel_id", Uuid, nullable=False))
sales_rollup_sku = _rollup("sales_rollup_sku", Column("sku", String(64), nullable=False))

order_transitions = Table(
    "order_transitions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_order_transitions_order_id", "order_id", "at"),
)

order_conflicts = Table(
    "order_conflicts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("line_id", Uuid, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("policy", String(32), nullable=False),
    Column("resolution", Text, nullable=False),
    Column("winner_order_id", Uuid, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # A manual conflict is open until a person resolves it (who, when, and their decision).
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("decision", Text, nullable=True),
    # When its age was alerted (once).
    Column("alerted_at", UtcDateTime, nullable=True),
    Index("ix_order_conflicts_order_id", "order_id"),
    Index("ix_order_conflicts_line_id", "line_id"),
    Index(
        "ix_order_conflicts_open_manual",
        "created_at",
        postgresql_where=text("policy = 'manual' AND resolved_at IS NULL"),
        sqlite_where=text("policy = 'manual' AND resolved_at IS NULL"),
    ),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("carrier", String(100), nullable=False),
    Column("tracking_number", String(200), nullable=False),
    Column("lines", JsonDocument, nullable=False),
    Column("channel_shipment_id", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Shipments of several orders in one physical parcel share it (None: a parcel of its own).
    Column("parcel_id", Uuid, nullable=True),
    Index("ix_shipments_order_id", "order_id"),
    Index("ix_shipments_parcel_id", "parcel_id"),
)

channel_cursors = Table(
    "channel_cursors",
    metadata,
    Column("channel_id", Uuid, ForeignKey("channels.id"), primary_key=True),
    Column("kind", String(32), primary_key=True),  # "orders": where the order pull goes on
    Column("cursor", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    # When the last pull that read to the end started: the channel's orders from before it
    # are in Nexo (what deciding a lowered figure waits for).
    Column("pulled_through", UtcDateTime, nullable=True),
)

# --- customers -----------------------------------------------------------------------------

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(300), nullable=True),
    Column("email", String(300), nullable=True),
    Column("phone", String(100), nullable=True),
    # What `customers(search:)` compares: name, e-mail and phone in lower case and the
    # phone's digits alone, one string; on PostgreSQL trigram-indexed (a substring search).
    Column("search_text", String(800), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("merged_into", Uuid, ForeignKey("customers.id"), nullable=True),
    Column("forgotten_at", UtcDateTime, nullable=True),
    Index("ix_customers_created_at_id", "created_at", "id"),
    only_on(
        "postgresql",
        Index(
            "ix_customers_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    ),
)

# A buyer as one channel knows them; orders point at it (orders.customer_identity_id).
customer_identities = Table(
    "customer_identities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, ForeignKey("channels.id"), nullable=False),
    Column("buyer_ref", String(300), nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("name", String(300), nullable=True),
    Column("email", String(300), nullable=True),
    Column("phone", String(100), nullable=True),
    Column("address", JsonDocument, nullable=False),
    # Match keys (domain/customers/matching.py): the mailbox, E.164 phone, address+name digest.
    Column("email_key", String(300), nullable=True),
    Column("phone_key", String(32), nullable=True),
    Column("address_key", String(64), nullable=True),
    Column("rule", String(32), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Column("linked_by", String(100), nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("forgotten", Boolean, nullable=False),
    UniqueConstraint("channel_id", "buyer_ref", name="uq_customer_identities_channel_ref"),
    Index("ix_customer_identities_customer_id", "customer_id"),
    Index("ix_customer_identities_email_key", "email_key"),
    Index("ix_customer_identities_phone_key", "phone_key"),
    Index("ix_customer_identities_address_key", "address_key"),
)

# What people did to customers: merges, unmerges, erasures (never personal data itself).
customer_audit = Table(
    "customer_audit",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_customer_audit_customer_id", "customer_id", "at"),
)

# Where a dropship or 3PL location's partner hears of its work (domain/partners/endpoints.py):
# a URL and the webhook secret, sealed as channel credentials are.
partner_endpoints = Table(
    "partner_endpoints",
    metadata,
    Column("location_id", Uuid, ForeignKey("locations.id"), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def _partner_delivery(table: str) -> list[SchemaItem]:
    """The columns of a webhook's delivery to its partner (domain/partners/delivery.py), and
    the index the delivery runs read: only what is still to deliver (none at all, most of
    the time)."""
    undelivered = "delivery IN ('pending', 'retry', 'processing')"
    return [
        Column("delivery", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("available_at", UtcDateTime, nullable=False),
        Column("claimed_at", UtcDateTime, nullable=True),
        Column("delivered_at", UtcDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
        CheckConstraint(
            "delivery IN ('pending', 'retry', 'processing', 'delivered', 'dead')",
            name="delivery_known",
        ),
        Index(
            f"ix_{table}_undelivered",
            "available_at",
            postgresql_where=text(undelivered),
            sqlite_where=text(undelivered),
        ),
    ]


# A partner location's work (domain/orders/handoff.py): lines it is to ship, its progress,
# and the delivery of its webhook (retried and dead-lettered like the outbox's rows).
fulfilment_requests = Table(
    "fulfilment_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("lines", JsonDocument, nullable=False),  # [[line id, sku, quantity], ...]
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("shipped_at", UtcDateTime, nullable=True),
    Column("shipment_id", Uuid, ForeignKey("shipments.id"), nullable=True),
    *_partner_delivery("fulfilment_requests"),
    CheckConstraint(
        "status IN ('requested', 'acknowledged', 'shipped', 'cancelled')", name="status_known"
    ),
    Index("ix_fulfilment_requests_order_id", "order_id"),
    Index("ix_fulfilment_requests_location_id", "location_id", "created_at", "id"),
)

# Lines of a request withdrawn from its partner (domain/orders/handoff.py `withdraw`), with the
# delivery of the webhook telling it, as a request's.
fulfilment_cancellations = Table(
    "fulfilment_cancellations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("request_id", Uuid, ForeignKey("fulfilment_requests.id"), nullable=False),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("location_id", Uuid, ForeignKey("locations.id"), nullable=False),
    Column("lines", JsonDocument, nullable=False),  # [[line id, sku, quantity], ...]
    Column("reason", String(300), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    *_partner_delivery("fulfilment_cancellations"),
    Index("ix_fulfilment_cancellations_request_id", "request_id", "created_at"),
)
