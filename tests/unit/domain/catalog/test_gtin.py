"""Barcodes: the GS1 check digit, on real GTINs and on any digits at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.gtin import GTIN_LENGTHS, check_digit, is_valid_gtin, parse_gtin
from domain.errors import ErrorCode, InvalidInput

REAL_GTINS = [
    "96385074",  # GTIN-8
    "036000291452",  # GTIN-12 / UPC-A
    "4006381333931",  # GTIN-13 / EAN-13
    "10614141000415",  # GTIN-14 (GS1's example company prefix)
    "15400141288763",  # GTIN-14 on an ITF-14 shipping carton
]

digits = st.sampled_from("0123456789")


@st.composite
def gtins(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from(GTIN_LENGTHS))
    body = "".join(draw(st.lists(digits, min_size=length - 1, max_size=length - 1)))
    return body + str(check_digit(body))


def refusal(value: str, field: str = "barcode") -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_gtin(value, field=field)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == field
    return refused.value


@pytest.mark.parametrize("gtin", REAL_GTINS)
def test_real_gtins_are_valid_and_parse_to_themselves(gtin: str) -> None:
    assert is_valid_gtin(gtin)
    assert parse_gtin(gtin) == gtin
    assert check_digit(gtin[:-1]) == int(gtin[-1])


def test_check_digit_of_known_bodies() -> None:
    assert check_digit("400638133393") == 1
    assert check_digit("03600029145") == 2
    assert check_digit("9638507") == 4
    assert check_digit("0000000") == 0


@pytest.mark.parametrize("body", ["", "12a4", " 123", "١٢٣"])
def test_check_digit_needs_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        check_digit(body)


def test_spaces_and_hyphens_that_group_digits_are_dropped() -> None:
    assert parse_gtin("4 006381 333931") == "4006381333931"
    assert parse_gtin("0-36000-29145-2") == "036000291452"
    assert parse_gtin(" 9638-5074\t") == "96385074"
    assert is_valid_gtin("0 36000 29145 2")


def test_leading_zeros_are_kept_and_nothing_is_padded() -> None:
    assert parse_gtin("036000291452") == "036000291452"
    assert parse_gtin("0036000291452") == "0036000291452"


@pytest.mark.parametrize("value", ["", "   ", " - - "])
def test_an_empty_barcode_is_refused(value: str) -> None:
    assert "empty" in refusal(value).message
    assert not is_valid_gtin(value)


@pytest.mark.parametrize(
    ("value", "bad"),
    [("40063813339X1", "X"), ("4006381.333931", "."), ("٤٠٠٦٣٨١٣٣٣٩٣١", "٤"), ("12345678²", "²")],
)
def test_anything_but_digits_is_refused_and_named(value: str, bad: str) -> None:
    message = refusal(value).message
    assert "digits only" in message
    assert repr(bad) in message
    assert not is_valid_gtin(value)


@pytest.mark.parametrize("value", ["1234567", "123456789", "12345678901", "123456789012345"])
def test_a_wrong_length_is_refused_with_the_length(value: str) -> None:
    message = refusal(value).message
    assert "8, 12, 13 or 14 digits" in message
    assert f"has {len(value)}" in message


def test_a_wrong_check_digit_names_the_expected_one() -> None:
    message = refusal("4006381333932").message
    assert "should be 1, not 2" in message


def test_the_error_carries_the_field_it_was_given() -> None:
    refusal("123", field="variants.0.barcode")
    refusal("4006381333932", field="gtin")


@given(
    body=st.sampled_from([7, 11, 12, 13]).flatmap(
        lambda n: st.lists(digits, min_size=n, max_size=n).map("".join)
    )
)
def test_a_body_with_its_check_digit_is_a_valid_gtin(body: str) -> None:
    gtin = body + str(check_digit(body))
    assert is_valid_gtin(gtin)
    assert parse_gtin(gtin) == gtin


@given(gtin=gtins(), data=st.data())
def test_changing_any_single_digit_makes_it_invalid(gtin: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(gtin) - 1), label="position")
    digit = data.draw(digits.filter(lambda d: d != gtin[position]), label="digit")
    changed = gtin[:position] + digit + gtin[position + 1 :]
    assert not is_valid_gtin(changed)
    assert "check digit" in refusal(changed).message


@given(gtin=gtins(), data=st.data())
def test_grouping_never_changes_the_parsed_digits(gtin: str, data: st.DataObject) -> None:
    separators = data.draw(
        st.lists(st.sampled_from(["", " ", "-", " - "]), min_size=len(gtin) + 1,
                 max_size=len(gtin) + 1)
    )  # fmt: skip
    grouped = "".join(sep + digit for sep, digit in zip(separators, gtin, strict=False))
    grouped += separators[-1]
    assert parse_gtin(grouped) == gtin


@given(value=st.text(max_size=20))
def test_is_valid_gtin_agrees_with_parse_gtin(value: str) -> None:
    try:
        parsed = parse_gtin(value)
    except InvalidInput:
        assert not is_valid_gtin(value)
    else:
        assert is_valid_gtin(value)
        assert len(parsed) in GTIN_LENGTHS
        assert check_digit(parsed[:-1]) == int(parsed[-1])
