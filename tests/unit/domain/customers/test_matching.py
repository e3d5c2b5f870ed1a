"""Matching keys: one mailbox however it is spelled, E.164 phones, and a name alone never a
key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.rate_history import RateHistory
from domain.customers.matching import (
    Candidate,
    MatchKeys,
    Rule,
    best,
    e164,
    mailbox,
    match_keys,
    person_name,
    postal_address,
)
from domain.errors import InvalidInput

ADDRESS = {"line1": "1 Main Street", "city": "Springfield", "zip": "94103", "country": "US"}
locals_ = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ("A.Da+shop@GoogleMail.com", "ada@gmail.com"),
        ("  ada@gmail.com ", "ada@gmail.com"),
        ("ada+news@outlook.com", "ada@outlook.com"),
        ("a.da@outlook.com", "a.da@outlook.com"),  # Outlook keeps dots
        ("ada-shop@yahoo.com", "ada@yahoo.com"),
        ("ada+x@example.com", "ada+x@example.com"),  # unknown provider: another mailbox maybe
        ("not an address", None),
        ("@gmail.com", None),
        ("", None),
    ],
)
def test_a_mailbox_is_the_address_as_its_provider_delivers_it(
    given_: str, expected: str | None
) -> None:
    assert mailbox(given_) == expected


@given(local=locals_, tag=locals_, dots=st.sets(st.integers(0, 11), max_size=3))
def test_gmail_spellings_of_one_mailbox_are_one(local: str, tag: str, dots: set[int]) -> None:
    dotted = "".join(f"{c}." if n in dots else c for n, c in enumerate(local)).rstrip(".")
    spelled = f"{dotted.upper()}+{tag}@googlemail.com"
    assert mailbox(spelled) == mailbox(f"{local}@gmail.com") == f"{local}@gmail.com"


@given(st.text(max_size=40))
def test_a_mailbox_is_stable(text: str) -> None:
    once = mailbox(text)
    assert once is None or mailbox(once) == once


def test_phones_are_e164_read_in_the_shipping_country() -> None:
    assert e164("(415) 555-2671", "US") == "+14155552671"
    assert e164("+1 415 555 2671") == "+14155552671"
    assert e164("020 7946 0958", "GB") == "+442079460958"
    assert e164("011 4444-5555", "AR") == "+541144445555"
    assert e164("415 555 2671") is None  # no country known: not a number to match by
    assert e164("555") is None
    assert e164("call me") is None
    assert e164(None) is None


def test_a_name_alone_is_no_key_and_an_address_needs_a_name() -> None:
    assert match_keys(None, None, "Ada Lovelace", {}) == MatchKeys()
    assert match_keys(None, None, None, ADDRESS) == MatchKeys()
    assert match_keys(None, None, "Ada", {"country": "US"}) == MatchKeys()
    one = match_keys(None, None, "Ada  LOVELACE", ADDRESS)
    other = match_keys(None, None, "lovelace ada", {**ADDRESS, "line1": "1 main st."})
    assert one.address_and_name is not None
    assert one == other
    assert match_keys(None, None, "Ada Byron", ADDRESS).address_and_name != one.address_and_name


def test_names_and_addresses_compare_as_plain_words() -> None:
    assert person_name("José  Pérez") == person_name("perez JOSE") == "jose perez"
    assert postal_address({"address1": "1 Main Street", "postal_code": "94103"}) == (
        postal_address({"line1": "1, main st", "zip": "94103"})
    )


def test_the_strongest_rule_then_the_oldest_customer_is_joined() -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    a, b = uuid.uuid4(), uuid.uuid4()
    by_phone = Candidate(a, old, Rule.PHONE, "+1", uuid.uuid4())
    by_email = Candidate(b, new, Rule.EMAIL, "x@y.z", uuid.uuid4())
    assert best([by_phone, by_email]) == by_email
    older = Candidate(a, old, Rule.EMAIL, "x@y.z", uuid.uuid4())
    assert best([by_email, older]) == older
    assert best([]) is None


def test_a_rate_of_a_day_is_the_last_set_on_or_before_it() -> None:
    rates = RateHistory.of(
        [("EUR", "USD", date(2026, 3, 1), Decimal("1.10")),
         ("EUR", "USD", date(2026, 3, 5), Decimal("1.20"))]
    )  # fmt: skip
    assert rates.rate("EUR", "USD", date(2026, 3, 4)) == Decimal("1.10")
    assert rates.rate("EUR", "USD", date(2026, 3, 5)) == Decimal("1.20")
    assert rates.rate("EUR", "USD", date(2026, 2, 1)) == Decimal("1.10")  # the first known
    assert rates.convert(1000, "USD", "EUR", date(2026, 3, 9)) == 833  # 10 / 1.2, half up
    assert rates.convert(999, "GBP", "GBP", date(2026, 3, 9)) == 999
    with pytest.raises(InvalidInput):
        rates.convert(1, "GBP", "USD", date(2026, 3, 9))
