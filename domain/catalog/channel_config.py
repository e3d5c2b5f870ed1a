"""A channel's catalog configuration: sync switch, price rule, listing rule, credentials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.catalog.listing import ListingRule
from domain.catalog.money import Money
from domain.catalog.pricing import PriceRule, Rounding
from domain.errors import InvalidInput
from domain.orders.model import ConflictPolicy, Fulfilment, LosingLine


@dataclass(frozen=True, slots=True)
class PriceRuleSpec:
    """A channel's price rule as the merchant sets it; the fixed amount has its own currency."""

    markup_percent: Decimal = Decimal(0)
    fixed_amount: Money | None = None
    rounding: Rounding = field(default_factory=Rounding)
    min_margin_percent: Decimal | None = None

    def for_base(self, channel_currency: str, base_currency: str) -> PriceRule:
        """The pure rule for prices based in `base_currency`."""
        fixed = 0
        if self.fixed_amount is not None and self.fixed_amount.minor:
            if self.fixed_amount.currency != base_currency:
                raise InvalidInput(
                    f"the fixed amount is in {self.fixed_amount.currency}, "
                    f"the base price in {base_currency}",
                    field="fixedAmount",
                )
            fixed = self.fixed_amount.minor
        return PriceRule(
            currency=channel_currency,
            markup_percent=self.markup_percent,
            fixed_amount=fixed,
            rounding=self.rounding,
            min_margin_percent=self.min_margin_percent,
        )


class StockEditPolicy(StrEnum):
    """What a stock figure edited on the channel's side does to the hub."""

    HUB_WINS = "hub_wins"  # the hub's number is pushed back over the edit
    ACCEPT_CHANNEL_EDITS = "accept_channel_edits"  # the edit adjusts the hub's stock


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    channel_id: uuid.UUID
    sync_enabled: bool = True
    price_rule: PriceRuleSpec | None = None  # None: the base price, converted
    listing_rule: ListingRule = field(default_factory=ListingRule)
    credentials_set: bool = False  # the credentials themselves never leave the vault
    updated_at: datetime | None = None
    stock_edit_policy: StockEditPolicy = StockEditPolicy.HUB_WINS
    conflict_policy: ConflictPolicy = ConflictPolicy.FIRST_COME  # who gets a contested unit
    losing_lines: LosingLine = LosingLine.BACKORDER  # what becomes of a line that lost one
    fulfilment: Fulfilment = Fulfilment.MERCHANT  # which stock the channel's orders take
