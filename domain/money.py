"""Money: an integer of minor units and an ISO 4217 currency. No floats anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from domain.errors import InvalidInput
from domain.limits import MAX_AMOUNT_MINOR

# Minor-unit exponents of the currencies Nexo's channels sell in (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "ARS": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "COP": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2,
    "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "NOK": 2, "NZD": 2, "PEN": 2, "PLN": 2,
    "SEK": 2, "SGD": 2, "USD": 2, "UYU": 2, "ZAR": 2,
}  # fmt: skip


def exponent(currency: str, field: str = "currencyCode") -> int:
    """Digits after the decimal point in `currency`; unknown currencies are refused."""
    found = CURRENCY_EXPONENTS.get(currency)
    if found is None:
        raise InvalidInput(f"unknown or unsupported currency {currency!r}", field=field)
    return found


@dataclass(frozen=True, slots=True, order=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def parse(cls, amount: str, currency: str, field: str = "amount") -> Money:
        """From a decimal string ("12.99"): exact, with no more decimals than the currency has."""
        digits = exponent(currency, field="currencyCode" if field == "amount" else field)
        try:
            value = Decimal(amount.strip())
        except (InvalidOperation, AttributeError):
            raise InvalidInput(f"{amount!r} is not a decimal amount", field=field) from None
        if not value.is_finite():
            raise InvalidInput(f"{amount!r} is not a decimal amount", field=field)
        # Its magnitude first: scaling "1e999999" would overflow the decimal context.
        if (
            value.adjusted() > len(str(MAX_AMOUNT_MINOR))
            or abs(value).scaleb(digits) > MAX_AMOUNT_MINOR
        ):
            largest = Decimal(MAX_AMOUNT_MINOR).scaleb(-digits)
            raise InvalidInput(f"amounts are at most {largest:f} {currency}", field=field)
        scaled = value.scaleb(digits)
        if (value and value.adjusted() < -digits) or scaled != scaled.to_integral_value():
            raise InvalidInput(
                f"{currency} amounts have at most {digits} decimals, got {amount!r}", field=field
            )
        return cls(int(scaled), currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        digits = exponent(self.currency)
        return f"{self.amount:.{digits}f} {self.currency}"


def to_minor(value: Decimal, currency: str, *, up: bool = False) -> int:
    """A decimal amount of `currency` in minor units: half up, or always up with `up`."""
    rounding = ROUND_CEILING if up else ROUND_HALF_UP
    return int(value.scaleb(exponent(currency)).to_integral_value(rounding=rounding))
