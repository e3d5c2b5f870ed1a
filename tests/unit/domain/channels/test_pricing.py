"""Channel price rules: the examples merchants configure, and the properties that always hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.channels.pricing import (
    PriceRule,
    Rounding,
    RoundingMode,
    SalePrice,
    channel_price,
    convert,
)
from domain.errors import InvalidInput
from domain.money import Money, to_minor

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
RATES = {("USD", "MXN"): Decimal("17.25"), ("USD", "ARS"): Decimal("1012.5")}
CHARM_99 = Rounding(RoundingMode.CHARM, Decimal("0.99"))


def usd(amount: str) -> Money:
    return Money.parse(amount, "USD")


def test_amazon_marks_up_15_percent_plus_a_fee_for_its_commission() -> None:
    rule = PriceRule("USD", markup_percent=Decimal(15), fixed_amount=150)
    result = channel_price(usd("20.00"), rule, RATES, now=NOW)
    assert result.price == usd("24.50")
    assert result.compare_at is None
    assert [(s.step, str(s.price)) for s in result.explanation] == [
        ("base price", "20.00 USD"),
        ("markup +15%", "23.00 USD"),
        ("fixed amount 1.50 USD", "24.50 USD"),
        ("channel price", "24.50 USD"),
    ]


def test_own_web_store_sells_5_percent_below_base() -> None:
    rule = PriceRule("USD", markup_percent=Decimal(-5))
    assert channel_price(usd("20.00"), rule, RATES, now=NOW).price == usd("19.00")


def test_mercadolibre_converts_to_pesos_and_ends_in_99() -> None:
    rule = PriceRule("MXN", markup_percent=Decimal(10), rounding=CHARM_99)
    result = channel_price(usd("20.00"), rule, RATES, now=NOW)
    assert result.price == Money(37999, "MXN")  # 22.00 USD x 17.25 = 379.50 -> 379.99
    assert [s.step for s in result.explanation][2:4] == [
        "converted at 17.25 MXN per USD",
        "rounded up (charm)",
    ]


def test_the_margin_floor_lifts_a_price_and_keeps_its_ending() -> None:
    rule = PriceRule(
        "USD", markup_percent=Decimal(-5), rounding=CHARM_99, min_margin_percent=Decimal(10)
    )
    result = channel_price(usd("20.00"), rule, RATES, now=NOW, cost=usd("19.00"))
    assert result.price == usd("20.99")  # 19.99 < floor 20.90 -> 20.99
    assert "raised to the floor" in result.explanation[-2].step


def test_an_override_wins_and_a_running_sale_shows_the_regular_price_as_compare_at() -> None:
    rule = PriceRule("USD")
    sale = SalePrice(usd("15.00"), starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(1))
    result = channel_price(usd("20.00"), rule, RATES, now=NOW, override=usd("18.00"), sale=sale)
    assert (result.price, result.compare_at) == (usd("15.00"), usd("18.00"))
    after = channel_price(usd("20.00"), rule, RATES, now=NOW + timedelta(days=2), sale=sale)
    assert (after.price, after.compare_at) == (usd("20.00"), None)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (PriceRule("JPY", rounding=CHARM_99), "rounding"),  # yen have no cents to end in .99
        (PriceRule("EUR"), "currency"),  # no USD -> EUR rate stored
        (PriceRule("USD", rounding=Rounding(RoundingMode.CHARM, Decimal("1.5"))), "rounding"),
    ],
)
def test_rules_that_cannot_be_met_are_refused(rule: PriceRule, field: str) -> None:
    rates = {**RATES, ("USD", "JPY"): Decimal(150)}
    with pytest.raises(InvalidInput) as refused:
        channel_price(usd("20.00"), rule, rates, now=NOW)
    assert refused.value.field == field


def test_negative_prices_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        channel_price(Money(-1, "USD"), PriceRule("USD"), RATES, now=NOW)
    assert refused.value.field == "basePrice"


# --- properties --------------------------------------------------------------------------------

currencies = st.sampled_from(["USD", "MXN", "ARS"])
roundings = st.sampled_from(
    [
        Rounding(),
        Rounding(RoundingMode.WHOLE),
        CHARM_99,
        Rounding(RoundingMode.CHARM, Decimal("0.95")),
    ]
)
markups = st.decimals(min_value=-50, max_value=300, places=2)
bases = st.integers(min_value=0, max_value=10_000_000)


@st.composite
def rules(draw: st.DrawFn, *, non_negative: bool = False) -> PriceRule:
    markup = draw(st.decimals(min_value=0, max_value=300, places=2) if non_negative else markups)
    return PriceRule(
        currency=draw(currencies),
        markup_percent=markup,
        fixed_amount=draw(st.integers(min_value=0 if non_negative else -500, max_value=5_000)),
        rounding=draw(roundings),
        min_margin_percent=draw(st.none() | st.decimals(min_value=0, max_value=100, places=1)),
    )


@given(rule=rules(), base=bases, cost=st.integers(min_value=0, max_value=10_000_000))
def test_never_below_the_margin_floor(rule: PriceRule, base: int, cost: int) -> None:
    assume(rule.min_margin_percent is not None)
    assert rule.min_margin_percent is not None
    result = channel_price(Money(base, "USD"), rule, RATES, now=NOW, cost=Money(cost, "USD"))
    floor_usd = to_minor(Decimal(cost) / 100 * (1 + rule.min_margin_percent / 100), "USD", up=True)
    floor = convert(Money(floor_usd, "USD"), rule.currency, RATES, up=True)
    assert result.price >= floor


@given(rule=rules(), base=bases)
def test_rounding_always_ends_as_configured(rule: PriceRule, base: int) -> None:
    result = channel_price(Money(base, "USD"), rule, RATES, now=NOW, cost=Money(base, "USD"))
    modulus, rest = rule.rounding.modulus_and_rest(rule.currency)
    assert result.price.minor % modulus == rest


@given(rule=rules(non_negative=True), low=bases, extra=bases)
def test_monotone_in_the_base_price_for_non_negative_markups(
    rule: PriceRule, low: int, extra: int
) -> None:
    cheaper = channel_price(Money(low, "USD"), rule, RATES, now=NOW).price
    dearer = channel_price(Money(low + extra, "USD"), rule, RATES, now=NOW).price
    assert cheaper <= dearer


@given(rule=rules(), base=bases, cost=st.none() | bases)
def test_the_explanation_starts_at_the_base_and_ends_at_the_price(
    rule: PriceRule, base: int, cost: int | None
) -> None:
    costs = Money(cost, "USD") if cost is not None else None
    result = channel_price(Money(base, "USD"), rule, RATES, now=NOW, cost=costs)
    steps = result.explanation
    assert steps[0].price == Money(base, "USD")
    assert steps[-1].price == result.price
    in_channel_currency = [s.price for s in steps if s.price.currency == rule.currency]
    # After conversion every step is in the channel's currency and none lowers the price
    # except a markup below zero, which comes before conversion.
    after_conversion = in_channel_currency if rule.currency != "USD" else in_channel_currency[1:]
    if rule.markup_percent >= 0 and rule.fixed_amount >= 0:
        assert after_conversion == sorted(after_conversion)
