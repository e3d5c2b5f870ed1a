"""Catalog: categories, products, variants, images; prices, rates, channel configuration, listings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:19:42.142219
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.db.tables import UtcDateTime
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("path", name=op.f("uq_categories_path")),
    )
    op.create_table(
        "currency_rates",
        sa.Column("source", sa.String(length=3), nullable=False),
        sa.Column("target", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "target", name=op.f("pk_currency_rates")),
    )
    op.create_table(
        "channel_configs",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "price_rule",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "listing_rule",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_configs_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_configs")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'archived')", name=op.f("ck_products_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("handle", name=op.f("uq_products_handle")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_brand", ["brand"], unique=False)
        batch_op.create_index("ix_products_category_id", ["category_id"], unique=False)
        batch_op.create_index("ix_products_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "problems",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("confirmed_content_hash", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'pending', 'active', 'error', 'ended')",
            name=op.f("ck_listings_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_listings_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_listings_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("channel_id", "product_id", name="uq_listings_channel_product"),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_listings_channel_status_created",
            ["channel_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_listings_product_id", ["product_id"], unique=False)

    op.create_table(
        "product_images",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("alt_text", sa.String(length=512), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "skus",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_images_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.create_index("ix_product_images_product_id", ["product_id"], unique=False)

    op.create_table(
        "variants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column(
            "option_values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("barcode", sa.String(length=14), nullable=True),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("length_mm", sa.Integer(), nullable=True),
        sa.Column("width_mm", sa.Integer(), nullable=True),
        sa.Column("height_mm", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "cost_minor IS NULL OR cost_minor >= 0", name=op.f("ck_variants_cost_not_negative")
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_variants_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_variants_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["sku"], ["inventory_items.sku"], name=op.f("fk_variants_sku_inventory_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variants")),
        sa.UniqueConstraint("sku", name=op.f("uq_variants_sku")),
    )
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.create_index("ix_variants_product_id", ["product_id"], unique=False)

    op.create_table(
        "listing_items",
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("intended_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("intended_compare_at_minor", sa.BigInteger(), nullable=True),
        sa.Column("intended_quantity", sa.Integer(), nullable=False),
        sa.Column("confirmed_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_quantity", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_listing_items_listing_id_listings")
        ),
        sa.PrimaryKeyConstraint("listing_id", "sku", name=op.f("pk_listing_items")),
    )
    with op.batch_alter_table("listing_items", schema=None) as batch_op:
        batch_op.create_index("ix_listing_items_sku", ["sku"], unique=False)

    op.create_table(
        "sale_prices",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_sale_prices_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["sku"], ["variants.sku"], name=op.f("fk_sale_prices_sku_variants")
        ),
        sa.PrimaryKeyConstraint("channel_id", "sku", name=op.f("pk_sale_prices")),
    )
    with op.batch_alter_table("sale_prices", schema=None) as batch_op:
        batch_op.create_index("ix_sale_prices_sku", ["sku"], unique=False)

    op.create_table(
        "sku_price_overrides",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_sku_price_overrides_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["sku"], ["variants.sku"], name=op.f("fk_sku_price_overrides_sku_variants")
        ),
        sa.PrimaryKeyConstraint("channel_id", "sku", name=op.f("pk_sku_price_overrides")),
    )
    with op.batch_alter_table("sku_price_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_sku_price_overrides_sku", ["sku"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sku_price_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_sku_price_overrides_sku")

    op.drop_table("sku_price_overrides")
    with op.batch_alter_table("sale_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_sale_prices_sku")

    op.drop_table("sale_prices")
    with op.batch_alter_table("listing_items", schema=None) as batch_op:
        batch_op.drop_index("ix_listing_items_sku")

    op.drop_table("listing_items")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_index("ix_variants_product_id")

    op.drop_table("variants")
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.drop_index("ix_product_images_product_id")

    op.drop_table("product_images")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_product_id")
        batch_op.drop_index("ix_listings_channel_status_created")

    op.drop_table("listings")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_created_at_id")
        batch_op.drop_index("ix_products_category_id")
        batch_op.drop_index("ix_products_brand")

    op.drop_table("products")
    op.drop_table("channel_configs")
    op.drop_table("currency_rates")
    op.drop_table("categories")
