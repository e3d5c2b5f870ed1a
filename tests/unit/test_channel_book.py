"""The process's channel book answers a web store's cart and order without a read while what
it holds is under its ttl, and never after: `known` is the no-I/O lookup, `remember` files a
channel read on a miss, and a change made in the process (`invalidate`) forgets everything;
calls that meet a stale entry together share one read (`known_or_read`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

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


async def test_calls_meeting_a_stale_entry_share_one_read() -> None:
    book, channel = ChannelBook(ttl=3600), _web_store()
    reads = 0
    gate = asyncio.Event()

    async def read() -> Channel | None:
        nonlocal reads
        reads += 1
        await gate.wait()  # every caller has asked before the read answers
        book.remember(channel)
        return channel

    callers = [asyncio.ensure_future(book.known_or_read(channel.id, read)) for _ in range(8)]
    await asyncio.sleep(0)
    gate.set()

    assert await asyncio.gather(*callers) == [channel] * 8
    assert reads == 1
    assert await book.known_or_read(channel.id, read) == channel  # remembered: no read
    assert reads == 1


async def test_a_failed_read_fails_its_callers_and_the_next_call_reads_again() -> None:
    book, channel = ChannelBook(ttl=3600), _web_store()
    answers: list[Channel | Exception] = [ConnectionError("database away"), channel]

    async def read() -> Channel | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(ConnectionError):
        await book.known_or_read(channel.id, read)
    assert await book.known_or_read(channel.id, read) == channel
