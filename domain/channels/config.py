"""A channel's configuration: sync switch, price and listing rules, credentials, policies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.channels.listing import ListingRule
from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine, StockEditPolicy
from domain.channels.pricing import PriceRule, Rounding
from domain.errors import InvalidInput
from domain.money import Money


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
