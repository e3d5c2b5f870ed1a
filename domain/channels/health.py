"""Whether each channel can be synced as configured: what stops it, in a sentence."""

from __future__ import annotations

import uuid

from domain.channels.model import Channel
from domain.channels.port import ChannelConnector, ChannelFailure
from domain.ports import UnitOfWork


async def channel_problem(
    uow: UnitOfWork, connector: ChannelConnector, channel: Channel
) -> str | None:
    """None when the channel is ready to receive updates; otherwise why nothing is sent."""
    config = await uow.channel_configs.get(channel.id)
    if config is not None and not config.sync_enabled:
        return "sync is switched off"
    if not channel.location_ids:
        return "no location feeds this channel"
    if config is None:
        return "no listing rule yet: nothing is listed"
    try:
        connector.connect(channel, config, await uow.channel_configs.credentials(channel.id))
    except ChannelFailure as failure:
        return failure.message
    return connector.setup_problem(channel, config)


async def channel_problems(uow: UnitOfWork, connector: ChannelConnector) -> dict[uuid.UUID, str]:
    found: dict[uuid.UUID, str] = {}
    for channel in await uow.channels.all():
        problem = await channel_problem(uow, connector, channel)
        if problem is not None:
            found[channel.id] = problem
    return found
