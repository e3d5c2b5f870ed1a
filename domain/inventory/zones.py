"""Shipping zones: where a location ships to, and how well it reaches an order's destination.

A location's zones are countries (ISO 3166-1 alpha-2), each optionally narrowed to one region
(the subdivision part of ISO 3166-2: `BY` in `DE-BY`, `CA` in `US-CA`). A location with no
zones ships everywhere, as every location did before zones: routing only prefers locations
whose zones name the destination over those that do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from domain.errors import DomainError, InvalidFields, InvalidInput

COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()  # noqa: SIM905 (a list of 249 quoted codes would read worse)
)
_REGION = re.compile(r"^[A-Z0-9]{1,3}$")
MAX_ZONES = 300
# Where an order's address names its country and region, by the names channels and the web
# store use (first found wins).
COUNTRY_KEYS = ("country_code", "countryCode", "countryCodeV2", "country")
REGION_KEYS = ("province_code", "provinceCode", "region_code", "state_code", "region",
               "province", "state")  # fmt: skip


@dataclass(frozen=True, slots=True, order=True)
class Zone:
    country: str
    region: str | None = None

    def __str__(self) -> str:
        return f"{self.country}-{self.region}" if self.region else self.country


@dataclass(frozen=True, slots=True)
class Destination:
    country: str
    region: str | None = None

    def __str__(self) -> str:
        return f"{self.country}-{self.region}" if self.region else self.country


class Reach(IntEnum):
    """How a location reaches a destination, best first (routing sorts on it)."""

    ZONE = 0  # one of its zones names the destination
    EVERYWHERE = 1  # it has no zones
    OUTSIDE = 2  # it has zones, none names the destination


def reach(zones: Sequence[Zone], destination: Destination | None) -> Reach:
    if not zones or destination is None:
        return Reach.EVERYWHERE
    for zone in zones:
        if zone.country == destination.country and zone.region in (None, destination.region):
            return Reach.ZONE
    return Reach.OUTSIDE


def _region(text: str, country: str) -> str:
    """`BY`, `by` or `DE-BY` -> `BY`."""
    code = text.strip().upper()
    prefix = f"{country}-"
    return code[len(prefix) :] if code.startswith(prefix) else code


def destination(address: Mapping[str, object]) -> Destination | None:
    """Where an order goes, from its shipping address; None when it names no known country."""
    country = next((address[k] for k in COUNTRY_KEYS if isinstance(address.get(k), str)), None)
    if not isinstance(country, str) or country.strip().upper() not in COUNTRIES:
        return None
    code = country.strip().upper()
    region = next((address[k] for k in REGION_KEYS if isinstance(address.get(k), str)), None)
    found = _region(region, code) if isinstance(region, str) else None
    return Destination(code, found if found and _REGION.match(found) else None)


def check_zones(zones: Sequence[tuple[str, str | None]], field: str = "zones") -> list[Zone]:
    """Zones as given (country, region or None), checked: known countries, well-formed regions,
    none twice. Every fault is named (`zones[1].country`); sorted for storage."""
    if len(zones) > MAX_ZONES:
        raise InvalidInput(f"at most {MAX_ZONES} zones", field=field)
    errors: list[DomainError] = []
    found: set[Zone] = set()
    for n, (country_text, region_text) in enumerate(zones):
        country = country_text.strip().upper()
        if country not in COUNTRIES:
            errors.append(InvalidInput(
                f"{country_text[:10]!r} is no ISO 3166-1 alpha-2 country code",
                field=f"{field}[{n}].country",
            ))  # fmt: skip
            continue
        given = (region_text or "").strip()
        region = _region(given, country) if given else None
        if region is not None and not _REGION.match(region):
            errors.append(InvalidInput(
                f"{given[:10]!r} is no region code (the ISO 3166-2 part after "
                f"'{country}-', 1 to 3 letters or digits)",
                field=f"{field}[{n}].region",
            ))  # fmt: skip
            continue
        zone = Zone(country, region)
        if zone in found:
            errors.append(InvalidInput(f"zone {zone} is given twice", field=f"{field}[{n}]"))
        found.add(zone)
    InvalidFields.raise_if_any(errors)
    return sorted(found)
