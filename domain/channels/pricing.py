"""Channel prices: how a channel's price is derived from the base price, step by step.

A pure function. The order is fixed: base price, markup %, fixed amount, currency
conversion, rounding, margin floor, per-SKU override, scheduled sale price. Rounding goes
up, to the next amount that ends as configured, so it never erodes a margin; when the floor
lifts a price, the price is rounded up again so it still ends as configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidInput
from domain.money import Money, exponent, to_minor

RateTable = Mapping[tuple[str, str], Decimal]


class RoundingMode(StrEnum):
    NONE = "none"
    WHOLE = "whole"  # up to the next whole unit: 12.01 -> 13.00
    CHARM = "charm"  # up to the next amount ending in `ending`: 12.30 -> 12.99


@dataclass(frozen=True, slots=True)
class Rounding:
    mode: RoundingMode = RoundingMode.NONE
    ending: Decimal | None = None  # CHARM only: the fraction an amount ends in, e.g. 0.99

    def modulus_and_rest(self, currency: str) -> tuple[int, int]:
        """Prices end in `rest` minor units modulo `modulus` (1, 0 means "any amount")."""
        digits = exponent(currency)
        if self.mode is RoundingMode.NONE:
            return 1, 0
        unit = 10**digits
        if self.mode is RoundingMode.WHOLE:
            return unit, 0
        if self.ending is None or not Decimal(0) < self.ending < Decimal(1):
            raise InvalidInput("a charm ending is a fraction such as 0.99", field="rounding")
        rest = self.ending.scaleb(digits)
        if rest != rest.to_integral_value():
            raise InvalidInput(
                f"{currency} has {digits} decimals: prices cannot end in {self.ending}",
                field="rounding",
            )
        return unit, int(rest)


@dataclass(frozen=True, slots=True)
class PriceRule:
    currency: str
    markup_percent: Decimal = Decimal(0)
    fixed_amount: int = 0  # minor units of the base currency, added after the markup
    rounding: Rounding = field(default_factory=Rounding)
    min_margin_percent: Decimal | None = None  # floor: cost x (1 + margin)


@dataclass(frozen=True, slots=True)
class SalePrice:
    price: Money
    starts_at: datetime
    ends_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True, slots=True)
class PriceStep:
    step: str
    price: Money


@dataclass(frozen=True, slots=True)
class ChannelPrice:
    price: Money
    compare_at: Money | None
    explanation: list[PriceStep]


def round_up(minor: int, modulus: int, rest: int) -> int:
    """The smallest amount >= `minor` that is `rest` modulo `modulus`."""
    return minor + (rest - minor) % modulus


def convert(amount: Money, currency: str, rates: RateTable, *, up: bool = False) -> Money:
    """`amount` in `currency` at the stored rate (half up; `up` rounds toward the ceiling)."""
    if amount.currency == currency:
        return amount
    rate = rates.get((amount.currency, currency))
    if rate is None or rate <= 0:
        raise InvalidInput(
            f"no exchange rate from {amount.currency} to {currency}", field="currency"
        )
    return Money(to_minor(amount.amount * rate, currency, up=up), currency)


def channel_price(
    base: Money,
    rule: PriceRule,
    rates: RateTable,
    *,
    now: datetime,
    cost: Money | None = None,
    override: Money | None = None,
    sale: SalePrice | None = None,
) -> ChannelPrice:
    """The price a channel shows for a variant, and every step that produced it."""
    if base.minor < 0:
        raise InvalidInput("a base price cannot be negative", field="basePrice")
    if cost is not None and cost.minor < 0:
        raise InvalidInput("a cost cannot be negative", field="cost")
    modulus, rest = rule.rounding.modulus_and_rest(rule.currency)
    steps = [PriceStep("base price", base)]

    price = base
    if rule.markup_percent:
        marked = base.amount * (1 + rule.markup_percent / 100)
        price = Money(max(to_minor(marked, base.currency), 0), base.currency)
        steps.append(PriceStep(f"markup {rule.markup_percent:+}%", price))
    if rule.fixed_amount:
        price = Money(max(price.minor + rule.fixed_amount, 0), base.currency)
        fixed = Money(rule.fixed_amount, base.currency)
        steps.append(PriceStep(f"fixed amount {fixed}", price))
    if rule.currency != base.currency:
        price = convert(price, rule.currency, rates)
        rate = rates[(base.currency, rule.currency)]
        steps.append(PriceStep(f"converted at {rate} {rule.currency} per {base.currency}", price))
    if modulus > 1:
        price = Money(round_up(price.minor, modulus, rest), rule.currency)
        steps.append(PriceStep(f"rounded up ({rule.rounding.mode.value})", price))

    if cost is not None and rule.min_margin_percent is not None:
        floor_cost = Money(
            to_minor(cost.amount * (1 + rule.min_margin_percent / 100), cost.currency, up=True),
            cost.currency,
        )
        floor = convert(floor_cost, rule.currency, rates, up=True)
        if price < floor:
            price = Money(round_up(floor.minor, modulus, rest), rule.currency)
            steps.append(
                PriceStep(
                    f"raised to the floor: cost x (1 + {rule.min_margin_percent}%) = {floor}",
                    price,
                )
            )

    if override is not None:
        if override.currency != rule.currency or override.minor < 0:
            raise InvalidInput(
                f"an override is a non-negative {rule.currency} amount", field="override"
            )
        price = override
        steps.append(PriceStep("per-SKU override", price))

    compare_at = None
    if sale is not None and sale.active(now):
        if sale.price.currency != rule.currency:
            raise InvalidInput(f"a sale price is a {rule.currency} amount", field="salePrice")
        compare_at = price
        price = sale.price
        steps.append(PriceStep("scheduled sale (regular price shown as compare-at)", price))

    steps.append(PriceStep("channel price", price))
    return ChannelPrice(price, compare_at, steps)
