"""Connecting sales channels to inventory: which locations feed them, and their rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.channels.availability import AvailabilityRule
from domain.channels.model import Channel, ChannelKind
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.ports import UnitOfWork
from domain.sku import check_sku

ISO_CURRENCY_LENGTH = 3


def check_rule(rule: AvailabilityRule) -> AvailabilityRule:
    """Reject rules that make no sense; in overrides, None fields inherit the channel's."""
    if rule.buffer_quantity is not None and rule.buffer_quantity < 0:
        raise InvalidInput("the safety buffer cannot be negative", field="bufferQuantity")
    if rule.allocation_percent is not None and not 0 <= rule.allocation_percent <= 100:
        raise InvalidInput("allocation is a percentage from 0 to 100", field="allocationPercent")
    if rule.max_quantity is not None and rule.max_quantity < 0:
        raise InvalidInput("the maximum cannot be negative", field="maxQuantity")
    if rule.end_when_below is not None and rule.end_when_below < 0:
        raise InvalidInput("the end-when threshold cannot be negative", field="endWhenBelow")
    return rule


async def create_channel(
    uow: UnitOfWork,
    *,
    name: str,
    kind: str,
    currency: str,
    priority: int,
    location_ids: Sequence[uuid.UUID],
    rule: AvailabilityRule,
) -> Channel:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a channel name is 1-100 characters", field="name")
    try:
        channel_kind = ChannelKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ChannelKind)
        raise InvalidInput(
            f"unknown channel kind {kind!r}; one of {allowed}", field="kind"
        ) from None
    if len(currency) != ISO_CURRENCY_LENGTH or not currency.isalpha() or not currency.isupper():
        raise InvalidInput("currency is an ISO 4217 code such as USD", field="currency")
    if len(set(location_ids)) != len(location_ids):
        raise InvalidInput("a location is listed twice", field="locationIds")
    for location_id in location_ids:
        if await uow.inventory.get_location(location_id) is None:
            raise NotFound(f"unknown location {location_id}", field="locationIds")
    if await uow.channels.get_by_name(name) is not None:
        raise AlreadyExists(f"a channel named {name!r} exists", field="name")
    full_rule = AvailabilityRule(
        buffer_quantity=rule.buffer_quantity or 0,
        allocation_percent=100 if rule.allocation_percent is None else rule.allocation_percent,
        max_quantity=rule.max_quantity,
        end_when_below=rule.end_when_below or 0,
    )
    channel = Channel(
        id=uuid.uuid4(),
        name=name,
        kind=channel_kind,
        currency=currency,
        priority=priority,
        location_ids=tuple(location_ids),
        rule=check_rule(full_rule),
        created_at=datetime.now(UTC),
    )
    await uow.channels.add(channel)
    return channel


async def set_channel_sku_rule(
    uow: UnitOfWork, *, channel_id: uuid.UUID, sku: str, rule: AvailabilityRule
) -> Channel:
    """Override a channel's availability rule for one SKU (or block it from the channel)."""
    channel = await uow.channels.get(channel_id)
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    sku = check_sku(sku)
    if await uow.inventory.get_item(sku) is None:
        raise NotFound(f"unknown SKU {sku!r}", field="sku")
    await uow.channels.set_sku_rule(channel_id, sku, check_rule(rule))
    return channel
