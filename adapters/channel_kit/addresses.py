"""A channel's shipping address in the hub's address words (`line1`, `line2`, `city`,
`province_code`, `zip`, `country`): what zone routing and customer matching read."""

from __future__ import annotations

from collections.abc import Mapping

MAX_WORD: int = 200


def in_hub_words(address: object, words: Mapping[str, str]) -> dict[str, str]:
    """The address's text fields named in `words` (theirs -> ours); empty when it is no object.
    Names are left out: the hub routes by place, not by person."""
    if not isinstance(address, Mapping):
        return {}
    return {ours: address[theirs][:MAX_WORD] for theirs, ours in words.items()
            if isinstance(address.get(theirs), str) and address[theirs].strip()}  # fmt: skip
