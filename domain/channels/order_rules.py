"""A channel's order rules: who ships its orders, who gets a contested unit, and what
becomes of its line that loses one. Kept in the channel's configuration."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from domain.channels.config import ChannelConfig
from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine
from domain.errors import NotFound
from domain.ports import UnitOfWork


async def set_order_rules(
    uow: UnitOfWork,
    channel_id: uuid.UUID,
    *,
    now: datetime,
    conflict_policy: ConflictPolicy | None = None,
    losing_lines: LosingLine | None = None,
    fulfilment: Fulfilment | None = None,
) -> ChannelConfig:
    """Change the rules given (None keeps a rule as it is); takes effect for orders reserved
    from now on. The caller commits."""
    if await uow.channels.get(channel_id) is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    config = await uow.channel_configs.get(channel_id) or ChannelConfig(channel_id)
    config = replace(
        config,
        conflict_policy=conflict_policy or config.conflict_policy,
        losing_lines=losing_lines or config.losing_lines,
        fulfilment=fulfilment or config.fulfilment,
        updated_at=now,
    )
    await uow.channel_configs.save(config)
    return config
