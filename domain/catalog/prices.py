"""A variant's price on a channel: its rule, the stored rates, overrides and sales applied."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.catalog.model import Variant
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.pricing import ChannelPrice, PriceRule, RateTable, SalePrice, channel_price
from domain.money import Money


@dataclass(frozen=True, slots=True)
class PriceBook:
    """Everything channel prices depend on besides the variant, read once for a batch."""

    rates: RateTable
    overrides: Mapping[tuple[uuid.UUID, str], Money]
    sales: Mapping[tuple[uuid.UUID, str], SalePrice]
    now: datetime


def rule_for(channel: Channel, config: ChannelConfig | None, base_currency: str) -> PriceRule:
    """The channel's price rule; without one, the base price converted to its currency."""
    if config is not None and config.price_rule is not None:
        return config.price_rule.for_base(channel.currency, base_currency)
    return PriceRule(currency=channel.currency)


def price_on(
    variant: Variant, channel: Channel, config: ChannelConfig | None, book: PriceBook
) -> ChannelPrice:
    """Raises InvalidInput when the rule cannot be applied (e.g. a missing exchange rate)."""
    key = (channel.id, variant.sku)
    return channel_price(
        variant.price,
        rule_for(channel, config, variant.price.currency),
        book.rates,
        now=book.now,
        cost=variant.cost,
        override=book.overrides.get(key),
        sale=book.sales.get(key),
    )
