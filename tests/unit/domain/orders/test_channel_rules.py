"""Choosing a channel's order rules: only the rules given change, and only once committed."""

from __future__ import annotations

import uuid

import pytest

from domain.channels.order_rules import set_order_rules
from domain.channels.policies import Fulfilment, LosingLine, StockEditPolicy
from domain.errors import NotFound
from domain.orders.model import ConflictPolicy
from domain.sync.stock_edits import set_stock_edit_policy
from tests.stockroom import T0

from .conftest import Book


async def test_each_rule_given_changes_and_the_others_stay(book: Book) -> None:
    market = book.channels["Market"]
    async with book.uows() as uow:
        await set_stock_edit_policy(uow, market, StockEditPolicy.ACCEPT_CHANNEL_EDITS, now=T0)
        await set_order_rules(uow, market, now=T0, conflict_policy=ConflictPolicy.MANUAL)
        await uow.commit()

    async with book.uows() as uow:
        config = await set_order_rules(uow, market, now=T0, losing_lines=LosingLine.CANCEL)
        await uow.commit()

    assert (config.conflict_policy, config.losing_lines, config.fulfilment) == (
        ConflictPolicy.MANUAL, LosingLine.CANCEL, Fulfilment.MERCHANT,
    )  # fmt: skip
    assert config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS
    async with book.uows(readonly=True) as uow:
        assert await uow.channel_configs.get(market) == config


async def test_rules_not_committed_are_not_kept(book: Book) -> None:
    market = book.channels["Market"]
    async with book.uows() as uow:
        await set_order_rules(uow, market, now=T0, conflict_policy=ConflictPolicy.MANUAL)

    async with book.uows(readonly=True) as uow:
        assert await uow.channel_configs.get(market) is None  # never configured: the defaults


async def test_rules_of_an_unknown_channel_are_not_found(book: Book) -> None:
    async with book.uows() as uow:
        with pytest.raises(NotFound) as unknown:
            await set_order_rules(uow, uuid.uuid4(), now=T0, fulfilment=Fulfilment.MERCHANT)

    assert unknown.value.field == "channelId"
