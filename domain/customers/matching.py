"""Which buyers are one person: match keys from what an order's buyer gave, and the rule.

Pure functions. Three kinds of evidence are strong enough to join two channel identities:
the same mailbox (the e-mail as the provider delivers it: case, and the dots and plus-tags
a provider ignores), the same phone number (E.164, read with the shipping country as the
region), and the same postal address together with the same name. A name alone is weak
evidence and never joins anything: the same name is not the same person.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import phonenumbers


class Rule(StrEnum):
    """How an identity came to its customer, strongest evidence first."""

    EMAIL = "email"
    PHONE = "phone"
    ADDRESS_AND_NAME = "address_and_name"
    NEW = "new"  # nothing matched: a customer of its own
    MERGED = "merged"  # a person merged its customer into another
    UNMERGED = "unmerged"  # a person took it out of its customer


RULE_WORDS = {
    Rule.EMAIL: "e-mail",
    Rule.PHONE: "phone",
    Rule.ADDRESS_AND_NAME: "address and name",
}
# Strongest first: where an identity matches several customers, the strongest rule wins.
MATCHING_RULES = (Rule.EMAIL, Rule.PHONE, Rule.ADDRESS_AND_NAME)

# Providers that ignore dots in the local part (and take plus-tags): one mailbox, many spellings.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# Providers that deliver `name+tag@` to `name@` (sub-addressing). Others keep the address as is:
# for an unknown provider `a+b@` may well be another mailbox.
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com",
        "me.com", "mac.com", "fastmail.com", "fastmail.fm", "proton.me", "protonmail.com",
        "pm.me", "yandex.ru", "yandex.com",
    }
)  # fmt: skip
# Yahoo's disposable addresses use a hyphen: `base-keyword@yahoo.com` reaches `base`.
HYPHEN_TAG_DOMAINS = frozenset({"yahoo.com", "ymail.com", "rocketmail.com"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_FIELDS = ("line1", "line2", "city", "zip", "country")
_ADDRESS_ALIASES = {
    "address1": "line1", "address_1": "line1", "street": "line1", "address_line1": "line1",
    "address2": "line2", "address_2": "line2", "address_line2": "line2",
    "postal_code": "zip", "postcode": "zip", "zip_code": "zip", "postalcode": "zip",
    "country_code": "country", "countrycode": "country", "town": "city",
}  # fmt: skip
_ABBREVIATIONS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "lane": "ln", "apartment": "apt", "suite": "ste", "north": "n", "south": "s",
    "east": "e", "west": "w", "calle": "c", "avenida": "av",
}  # fmt: skip


def mailbox(email: str | None) -> str | None:
    """The mailbox an address delivers to: lower case, the provider's ignored dots and tags
    removed (`A.Da+shop@GoogleMail.com` -> `ada@gmail.com`); None when it is no address."""
    if not email:
        return None
    address = email.strip().lower()
    if not _EMAIL.match(address):
        return None
    local, domain = address.rsplit("@", 1)
    domain = DOTLESS_DOMAINS.get(domain, domain)
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    elif domain in HYPHEN_TAG_DOMAINS:
        local = local.split("-", 1)[0]
    if domain in DOTLESS_DOMAINS.values():
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


def e164(phone: str | None, country: str | None = None) -> str | None:
    """The number in E.164 (`+14155550123`), read in `country` when it has no country code;
    None when it is not a valid number (a fragment, letters, a relay's placeholder)."""
    if not phone or len(phone) > 64:
        return None
    region = country.strip().upper() if country and len(country.strip()) == 2 else None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plain(text: str) -> str:
    """Lower case, accents off, punctuation to spaces, one space between words."""
    folded = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())


def person_name(name: str | None) -> str | None:
    """A name compared without case, accents or word order (`José  Pérez` = `perez jose`)."""
    words = sorted(_plain(name).split()) if name else []
    return " ".join(words) or None


def postal_address(address: Mapping[str, object]) -> str | None:
    """The address as compared: known fields only, plain words, common abbreviations; None
    unless it has a street line and a postcode or city (a country alone is no address)."""
    fields: dict[str, str] = {}
    for name, value in address.items():
        key = _ADDRESS_ALIASES.get(name.strip().lower(), name.strip().lower())
        if key in ADDRESS_FIELDS and isinstance(value, str) and value.strip():
            words = _plain(value).split()
            fields[key] = " ".join(_ABBREVIATIONS.get(w, w) for w in words)
    if "line1" not in fields or not ({"zip", "city"} & fields.keys()):
        return None
    return "|".join(fields.get(name, "") for name in ADDRESS_FIELDS)


@dataclass(frozen=True, slots=True)
class MatchKeys:
    """What an identity can be matched by; each is None where the buyer gave too little."""

    email: str | None = None
    phone: str | None = None
    address_and_name: str | None = None  # a digest: the address and name are personal data

    def of(self, rule: Rule) -> str | None:
        return {
            Rule.EMAIL: self.email,
            Rule.PHONE: self.phone,
            Rule.ADDRESS_AND_NAME: self.address_and_name,
        }.get(rule)

    def present(self) -> list[tuple[Rule, str]]:
        return [(rule, key) for rule in MATCHING_RULES if (key := self.of(rule)) is not None]


def match_keys(
    email: str | None, phone: str | None, name: str | None, address: Mapping[str, object]
) -> MatchKeys:
    country = address.get("country") or address.get("country_code")
    place, who = postal_address(address), person_name(name)
    both = None
    if place is not None and who is not None:
        both = hashlib.sha256(f"{who}#{place}".encode()).hexdigest()
    return MatchKeys(
        email=mailbox(email),
        phone=e164(phone, country if isinstance(country, str) else None),
        address_and_name=both,
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A customer that holds an identity sharing a key with the one being matched."""

    customer_id: uuid.UUID
    customer_since: datetime
    rule: Rule
    key: str
    identity_id: uuid.UUID  # the identity that shares it (the evidence)


def best(candidates: Iterable[Candidate]) -> Candidate | None:
    """The candidate to join: the strongest rule, then the oldest customer, then the smallest
    id, so that the same inputs always choose alike."""
    strength = {rule: n for n, rule in enumerate(MATCHING_RULES)}
    return min(
        candidates,
        key=lambda c: (strength[c.rule], c.customer_since, str(c.customer_id)),
        default=None,
    )


def evidence(chosen: Candidate, others: Iterable[Candidate]) -> str:
    """Why an identity joined its customer, and which other customers it also matched."""
    said = f"same {RULE_WORDS[chosen.rule]} ({chosen.key}) as identity {chosen.identity_id}"
    also = sorted(
        {f"customer {c.customer_id} by {RULE_WORDS[c.rule]}" for c in others
         if c.customer_id != chosen.customer_id}
    )  # fmt: skip
    return f"{said}; also matches {', '.join(also)} (not merged)" if also else said
