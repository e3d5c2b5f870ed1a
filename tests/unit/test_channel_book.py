"""The process's channel book answers a web store's cart and order without a read while what
it holds is under its ttl, and never after: `known` is the no-I/O lookup, `remember` files a
channel read on a miss, and a change made in the process (`invalidate`) forgets everything."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.db.repositories.channels import ChannelBook
from domain.channels.availability import AvailabilityRule
from domain.channels.model import Channel, ChannelKind


def _web_store() -> Channel:
    return Channel(
        uuid.uuid4(), "Web", ChannelKind.WEBSTORE, "USD", 0, (uuid.uuid4(),),
        AvailabilityRule(), datetime(2026, 12, 7, tzinfo=UTC),
    )  # fmt: skip


def test_a_remembered_channel_is_known_until_the_book_is_invalidated() -> None:
    book, channel, other = ChannelBook(ttl=3600), _web_store(), _web_store()
    book.remember(channel)

    assert book.known(channel.id) == channel
    assert book.known(other.id) is None
    book.invalidate()
    assert book.known(channel.id) is None


def test_a_channel_read_longer_ago_than_the_ttl_is_not_known() -> None:
    book, channel = ChannelBook(ttl=0.0), _web_store()
    book.remember(channel)

    assert book.known(channel.id) is None
