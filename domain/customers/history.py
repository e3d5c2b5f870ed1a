"""A customer's purchases in numbers: orders, open orders, first and last, and lifetime
value per channel in one currency, each day's sales at that day's rate.

Lifetime value is what the customer kept: lines neither cancelled nor returned (a cancelled
line's units that had shipped count), at the price the channel sold them for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from domain.customers.model import ChannelValue, History
from domain.money import Money, exponent
from domain.orders.model import OrderStatus
from domain.ports import UnitOfWorkFactory

OPEN_STATUSES = (
    OrderStatus.PENDING_PAYMENT, OrderStatus.OPEN, OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_ALLOCATED, OrderStatus.PARTIALLY_SHIPPED,
)  # fmt: skip


async def histories(
    uows: UnitOfWorkFactory, customer_ids: Sequence[uuid.UUID], currency: str
) -> dict[uuid.UUID, History]:
    """Each customer's history (customers without orders have an empty one)."""
    exponent(currency, field="currency")
    async with uows(readonly=True) as uow:
        counts = await uow.customers.counts(customer_ids, [s.value for s in OPEN_STATUSES])
        values = await uow.customers.values(customer_ids)
        rates = await uow.pricing.rate_history() if values else None
    found: dict[uuid.UUID, History] = {}
    for customer_id in customer_ids:
        orders, open_orders, first, last = counts.get(customer_id, (0, 0, None, None))
        per_channel: dict[uuid.UUID, list[int]] = {}
        for channel_id, source, day, count, minor in values.get(customer_id, []):
            assert rates is not None
            sums = per_channel.setdefault(channel_id, [0, 0])
            sums[0] += count
            sums[1] += rates.convert(minor, source, currency, day)
        lifetime = tuple(
            ChannelValue(channel_id, n, Money(minor, currency))
            for channel_id, (n, minor) in sorted(per_channel.items(), key=lambda kv: str(kv[0]))
        )
        found[customer_id] = History(orders, open_orders, first, last, lifetime)
    return found
