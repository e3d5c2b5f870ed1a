"""A MercadoLibre category's own limits, as its settings say, kept an hour per process.

`GET /categories/{id}` answers `settings{max_title_length, max_variations_allowed…}`: titles
are commonly 60 characters but some categories allow more (or fewer), and an item has at
most 100 variations, 250 in some categories. The adapter reads a category's settings when it
lists under it (`read`: the title is cut to them) and keeps them; the listing format's checks
(`known`, the hub's preview and listing problems) use the category's limits this process
knows, and the widest MercadoLibre allows (`UNREAD`) for a category not read yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from adapters.channels.mercadolibre.client import MeliClient
from domain.channels.port import ChannelRejected, ChannelUnavailable

READ_AGAIN_SECONDS: Final = 3600.0  # a category's settings are read again after this


@dataclass(frozen=True, slots=True)
class CategoryLimits:
    title_length: int | None  # None: not known (no category read)
    variations: int


COMMON_VARIATIONS: Final = 100  # a category whose settings name no limit of its own
# A category not read yet: the widest MercadoLibre allows anywhere. The hub's titles are
# within the listing rule's limit already (60, MercadoLibre's common one, unless the
# merchant set more); sending reads the category, cuts a title over its limit at a word, and
# from then on its own limits are checked.
UNREAD: Final = CategoryLimits(title_length=None, variations=250)

# category id -> (its limits, when read: time.monotonic)
_KNOWN: dict[str, tuple[CategoryLimits, float]] = {}


def forget() -> None:
    """Read every category's settings again (they changed)."""
    _KNOWN.clear()


def remember(category: str, limits: CategoryLimits) -> None:
    _KNOWN[category] = (limits, time.monotonic())


def known(category: str | None) -> CategoryLimits | None:
    """The category's limits as read within the hour; None when not (or no longer) known."""
    found = _KNOWN.get(category or "")
    if found is None or time.monotonic() - found[1] >= READ_AGAIN_SECONDS:
        return None
    return found[0]


async def read(client: MeliClient, category: str) -> CategoryLimits:
    """The category's limits: as known, else read from MercadoLibre (and kept)."""
    found = known(category)
    if found is not None:
        return found
    answer = await client.call("GET", f"/categories/{quote(category, safe='')}",
                               operation="getCategory", passes=(404,))  # fmt: skip
    if answer.status == 404:
        raise ChannelRejected(f"MercadoLibre has no category {category}")
    settings: Any = answer.body.get("settings") if isinstance(answer.body, dict) else None
    settings = settings if isinstance(settings, dict) else {}
    title = settings.get("max_title_length")
    if not isinstance(title, int) or title < 1:
        raise ChannelUnavailable(f"MercadoLibre's category {category} has no title limit")
    variations = settings.get("max_variations_allowed")
    if not isinstance(variations, int) or variations < 1:
        variations = COMMON_VARIATIONS
    limits = CategoryLimits(title, variations)
    remember(category, limits)
    return limits
