"""A channel's policies: what its stock edits do, who gets a contested unit, what becomes of
the line that loses one, and which stock its orders take. Kept in its configuration."""

from __future__ import annotations

from enum import StrEnum


class StockEditPolicy(StrEnum):
    """What a stock figure edited on the channel's side does to the hub."""

    HUB_WINS = "hub_wins"  # the hub's number is pushed back over the edit
    ACCEPT_CHANNEL_EDITS = "accept_channel_edits"  # the edit adjusts the hub's stock


class Fulfilment(StrEnum):
    """Who ships a channel's orders, and so which stock they may take."""

    MERCHANT = "merchant"  # the hub's locations: warehouses, stores, 3PL, dropship
    CHANNEL_MANAGED = "channel_managed"  # the channel ships what it holds (FBA-style)


class ConflictPolicy(StrEnum):
    FIRST_COME = "first_come"  # the order placed first on its channel wins the unit
    CHANNEL_PRIORITY = "channel_priority"  # the higher-priority channel wins
    MANUAL = "manual"  # hold the line and alert a person


class LosingLine(StrEnum):
    """What becomes of a channel's line that lost a contested last unit (not under manual)."""

    BACKORDER = "backorder"  # kept, short, until stock comes
    CANCEL = "cancel"  # cancelled in the hub, and cancelled on its channel
