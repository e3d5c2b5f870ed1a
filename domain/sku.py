"""The SKU: the hub's key of a sellable variant everywhere (stock, listings, orders)."""

from __future__ import annotations

from domain.errors import InvalidInput

MAX_SKU_LENGTH = 64


def check_sku(sku: str, field: str = "sku") -> str:
    sku = sku.strip()
    if not sku or len(sku) > MAX_SKU_LENGTH or any(c.isspace() for c in sku):
        raise InvalidInput(f"a SKU is 1-{MAX_SKU_LENGTH} characters without spaces", field=field)
    return sku
