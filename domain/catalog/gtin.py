"""Barcodes (GTIN-8, GTIN-12/UPC-A, GTIN-13/EAN, GTIN-14) and their GS1 mod-10 check digit."""

from __future__ import annotations

from typing import Final

from domain.errors import InvalidInput

GTIN_LENGTHS: Final = (8, 12, 13, 14)

# Printed barcodes group their digits ("4 006381 333931", "0-36000-29145-2"); we accept both.
_GROUPING = frozenset(" -")


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit alone also accepts "²" and non-Latin digits, which no scanner produces.
    return value.isascii() and value.isdigit()


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body`, the digits of a GTIN without its check digit.

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the weighted
    sum up to a multiple of ten. Raises ValueError unless `body` is one or more ASCII digits.
    """
    if not _is_ascii_digits(body):
        raise ValueError(f"a GTIN body is one or more digits, got {body!r}")
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def parse_gtin(value: str, field: str = "barcode") -> str:
    """The digits of the GTIN in `value`, without the spaces and hyphens that group them.

    The length is kept as given (a 13-digit EAN stays 13 digits; nothing is padded to 14).
    Raises InvalidInput on `field` when what remains is not digits, is not 8, 12, 13 or 14
    digits long, or ends in the wrong check digit (the message says which one was expected).
    """
    digits = "".join(char for char in value if not (char.isspace() or char in _GROUPING))
    if not digits:
        raise InvalidInput("a GTIN must not be empty: it has 8, 12, 13 or 14 digits", field=field)
    if not _is_ascii_digits(digits):
        bad = next(char for char in digits if not _is_ascii_digits(char))
        raise InvalidInput(
            f"a GTIN is digits only (spaces and hyphens may group them), found {bad!r}",
            field=field,
        )
    if len(digits) not in GTIN_LENGTHS:
        raise InvalidInput(
            f"a GTIN has 8, 12, 13 or 14 digits, this one has {len(digits)}", field=field
        )
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InvalidInput(
            f"the GTIN's check digit (its last digit) should be {expected}, not {digits[-1]}",
            field=field,
        )
    return digits


def is_valid_gtin(value: str) -> bool:
    """Whether `value` is a GTIN that `parse_gtin` accepts (spaces and hyphens allowed)."""
    try:
        parse_gtin(value)
    except InvalidInput:
        return False
    return True
