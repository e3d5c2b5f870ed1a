"""A stock figure edited on a channel's side: which SKU it is about, and what the hub does.

The channel's policy decides. `hub_wins`: the hub's number is pushed back over the edit.
`accept_channel_edits`: the edit is a change of stock, applied to the hub (which then
publishes the result to every channel). Either way, a channel that shows exactly what the
hub publishes is in step: most such events are the hub's own updates coming back; so is a
figure the hub sent and has not heard back yet (see `echoes`), which is never an edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.channels.config import ChannelConfig
from domain.channels.policies import StockEditPolicy
from domain.errors import NotFound
from domain.ports import UnitOfWork


class EditAction(StrEnum):
    IN_STEP = "in_step"  # the channel shows what the hub publishes: nothing to do
    PUSH_BACK = "push_back"  # the hub's number goes out again, over the channel's
    APPLY = "apply"  # the hub's stock changes by `delta`


@dataclass(frozen=True, slots=True)
class StockEditDecision:
    action: EditAction
    reported: int  # what the channel now shows
    publishes: int  # what the hub publishes to that channel
    delta: int = 0  # APPLY: the change of the hub's stock
    echo: bool = False  # the figure is one the hub sent: its own push coming back

    @property
    def drift(self) -> str:
        shown = f"channel showed {self.reported}, hub publishes {self.publishes}"
        return f"{shown} (an echo of Nexo's push)" if self.echo else shown


def decide(
    policy: StockEditPolicy,
    *,
    reported: int,
    publishes: int,
    confirmed: int | None,
    echo: bool = False,
) -> StockEditDecision:
    """What the hub does about a channel now showing `reported`.

    `confirmed` is what the channel last confirmed showing (None: never). Accepting edits,
    the edit took the channel from that figure to `reported` (never confirmed: from what the
    hub publishes), and the difference is applied to the hub's stock. No difference, or a
    figure the hub sent (`echo`), means the channel only lags behind the hub: its number is
    pushed back, as under `hub_wins`.
    """
    if reported == publishes:
        return StockEditDecision(EditAction.IN_STEP, reported, publishes)
    if policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS:
        if echo:
            return StockEditDecision(EditAction.PUSH_BACK, reported, publishes, echo=True)
        delta = reported - (publishes if confirmed is None else confirmed)
        if delta:
            return StockEditDecision(EditAction.APPLY, reported, publishes, delta)
    return StockEditDecision(EditAction.PUSH_BACK, reported, publishes)


def sold_since(
    decision: StockEditDecision,
    channel_name: str,
    sku: str,
    occurred_at: datetime,
    last_sale: datetime | None,
) -> str | None:
    """Why an edit is ignored, if a sale of the SKU on the channel that the hub has taken is
    from after it (or the same second: the channel's times are whole seconds); None when
    not, or when the channel is in step anyway. Taken as an edit, its figure would count
    that sale a second time; the sale's own stock update comes after it."""
    if decision.action is EditAction.IN_STEP or last_sale is None or last_sale < occurred_at:
        return None
    return (
        f"{decision.drift}, but {channel_name} sold {sku} since: "
        "the sale's own stock update carries the newer figure"
    )


def skus_matching(refs: Mapping[str, str], listed: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The listed SKUs an event's channel ids point at, in SKU order.

    A SKU matches when it shares at least one id name with the event and every shared name
    has the same value (an event may carry ids a SKU lacks, e.g. Shopify's location).
    """
    found = []
    for sku, ids in sorted(listed.items()):
        shared = [name for name in refs if name in ids]
        if shared and all(ids[name] == refs[name] for name in shared):
            found.append(sku)
    return found


async def set_stock_edit_policy(
    uow: UnitOfWork, channel_id: uuid.UUID, policy: StockEditPolicy, *, now: datetime
) -> ChannelConfig:
    """Choose what stock edits made on the channel's side do from now on."""
    if await uow.channels.get(channel_id) is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    config = await uow.channel_configs.get(channel_id) or ChannelConfig(channel_id)
    config = replace(config, stock_edit_policy=policy, updated_at=now)
    await uow.channel_configs.save(config)
    return config
