"""Money parses exactly or not at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.limits import MAX_AMOUNT_MINOR
from domain.money import CURRENCY_EXPONENTS, Money, to_minor


def test_parse_counts_minor_units_by_the_currency() -> None:
    assert Money.parse("12.5", "USD") == Money(1250, "USD")
    assert Money.parse("1999", "JPY") == Money(1999, "JPY")
    assert Money.parse("1.234", "KWD") == Money(1234, "KWD")
    assert str(Money(1250, "USD")) == "12.50 USD"


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [("12.999", "USD", "amount"), ("1.5", "JPY", "amount"), ("abc", "USD", "amount"),
     ("NaN", "USD", "amount"), ("1.00", "XXX", "currencyCode")],
)  # fmt: skip
def test_bad_amounts_are_refused_with_the_field(amount: str, currency: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Money.parse(amount, currency)
    assert refused.value.field == field


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
)
def test_parse_round_trips_its_own_rendering(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(str(money.amount), currency) == money


def test_to_minor_rounds_half_up_or_always_up() -> None:
    assert to_minor(Decimal("1.005"), "USD") == 101
    assert to_minor(Decimal("1.001"), "USD") == 100
    assert to_minor(Decimal("1.001"), "USD", up=True) == 101


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e309", "amounts are at most 10000000000.00 USD"),
        ("1e999999999", "amounts are at most 10000000000.00 USD"),
        ("-10000000000.01", "amounts are at most 10000000000.00 USD"),
        ("1e-999999999", "USD amounts have at most 2 decimals, got '1e-999999999'"),
    ],
)
def test_amounts_past_what_is_stored_are_refused(amount: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Money.parse(amount, "USD")
    assert refused.value.message == message


def test_the_largest_amount_is_accepted() -> None:
    assert Money.parse("10000000000.00", "USD").minor == MAX_AMOUNT_MINOR
