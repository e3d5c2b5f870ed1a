"""Where a pull of a channel's orders by their last change goes on: opaque to the hub.

A pass reads the orders changed at or after `since`, page by page (`offset`); when it ends,
the next pass starts at the latest change it saw (`last`), skipping the orders at exactly
that time it has returned (`skip`): a change at the boundary is read once, none is missed.
eBay (by `lastmodifieddate`) and MercadoLibre (by `date_last_updated`) read orders this way.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from domain.channels.port import ChannelRejected


@dataclass(frozen=True, slots=True)
class ChangeCursor:
    since: str | None = None  # this pass reads orders changed at or after this time
    skip: tuple[str, ...] = ()  # orders at exactly `since` returned by the previous pass
    offset: int = 0
    last: str | None = None  # the latest change returned so far
    last_ids: tuple[str, ...] = ()

    def encode(self) -> str | None:
        if self == ChangeCursor():
            return None
        raw = json.dumps([self.since, self.skip, self.offset, self.last, self.last_ids])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str | None, channel: str) -> ChangeCursor:
        """The cursor a page gave; ChannelRejected names `channel` when it is not one."""
        if not cursor:
            return cls()
        try:
            since, skip, offset, last, last_ids = json.loads(base64.urlsafe_b64decode(cursor))
            return cls(since, tuple(skip), int(offset), last, tuple(last_ids))
        except (ValueError, TypeError, binascii.Error):
            raise ChannelRejected(f"not a {channel} order cursor: {cursor!r}") from None
