"""Exchange rates, per-SKU price overrides and scheduled sales in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import upsert_for
from adapters.db.tables import currency_rate_days, currency_rates, sale_prices, sku_price_overrides
from domain.catalog.rate_history import RateHistory
from domain.channels.pricing import RateTable, SalePrice
from domain.money import Money


class SqlPricingRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def rates(self) -> RateTable:
        rows = await self._conn.execute(select(currency_rates))
        return {(r.source, r.target): Decimal(r.rate) for r in rows}

    async def set_rate(self, source: str, target: str, rate: Decimal, at: datetime) -> None:
        values = {"rate": str(rate), "updated_at": at}
        stmt = upsert_for(self._conn)(currency_rates).values(source=source, target=target, **values)
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["source", "target"], set_=values)
        )
        day = {"source": source, "target": target, "day": at.date()}
        stmt = upsert_for(self._conn)(currency_rate_days).values(**day, **values)
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["source", "target", "day"], set_=values)
        )

    async def rate_history(self) -> RateHistory:
        rows = await self._conn.execute(select(currency_rate_days))
        return RateHistory.of((r.source, r.target, r.day, Decimal(r.rate)) for r in rows)

    async def overrides(self, skus: Sequence[str]) -> dict[tuple[uuid.UUID, str], Money]:
        if not skus:
            return {}
        stmt = select(sku_price_overrides).where(sku_price_overrides.c.sku.in_(skus))
        return {
            (r.channel_id, r.sku): Money(r.price_minor, r.currency)
            for r in await self._conn.execute(stmt)
        }

    async def set_override(self, channel_id: uuid.UUID, sku: str, price: Money | None) -> None:
        t = sku_price_overrides
        if price is None:
            await self._conn.execute(delete(t).where(t.c.channel_id == channel_id, t.c.sku == sku))
            return
        values = {"price_minor": price.minor, "currency": price.currency}
        stmt = upsert_for(self._conn)(t).values(channel_id=channel_id, sku=sku, **values)
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id", "sku"], set_=values)
        )

    async def sales(self, skus: Sequence[str]) -> dict[tuple[uuid.UUID, str], SalePrice]:
        if not skus:
            return {}
        stmt = select(sale_prices).where(sale_prices.c.sku.in_(skus))
        return {
            (r.channel_id, r.sku): SalePrice(
                Money(r.price_minor, r.currency), r.starts_at, r.ends_at
            )
            for r in await self._conn.execute(stmt)
        }

    async def set_sale(self, channel_id: uuid.UUID, sku: str, sale: SalePrice | None) -> None:
        t = sale_prices
        if sale is None:
            await self._conn.execute(delete(t).where(t.c.channel_id == channel_id, t.c.sku == sku))
            return
        values = {
            "price_minor": sale.price.minor,
            "currency": sale.price.currency,
            "starts_at": sale.starts_at,
            "ends_at": sale.ends_at,
        }
        stmt = upsert_for(self._conn)(t).values(channel_id=channel_id, sku=sku, **values)
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id", "sku"], set_=values)
        )
