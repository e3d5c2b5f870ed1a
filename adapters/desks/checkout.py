"""The web store's `placeOrder` calls that reach one process together, placed in one
transaction (`domain.orders.checkout.place_all`): one lock of their carts' holds, one
insert of their orders, one hand-over, instead of a transaction each.

Each call gets what `place` would give it alone: its order, the same order again for a
placed cart, or its own refusal (one refused leaves the others placed). When a batch
fails as a whole (a lost connection, a deadlock), each of its calls is placed alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from adapters.desks.batching import Batcher
from domain.channels.model import Channel
from domain.channels.port import ChannelOrder
from domain.clock import Clock, utcnow
from domain.orders.checkout import Checkout, Placed, place_all
from domain.ports import UnitOfWorkFactory

MAX_BATCH = 100


class CheckoutCounter:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        *,
        max_batch: int = MAX_BATCH,
        on_batch_failure: Callable[[Exception], None] | None = None,
        clock: Clock = utcnow,
    ):
        self._uows = uows
        self._clock = clock
        self._on_batch_failure = on_batch_failure
        self._batcher: Batcher[Checkout, Placed] = Batcher(self._run, max_size=max_batch)

    @property
    def batches(self) -> int:
        """Batches run so far (for tests and metrics)."""
        return self._batcher.rounds

    async def place(
        self,
        channel_id: uuid.UUID,
        order_for: Callable[[Channel], ChannelOrder],
        *,
        key: str,
        actor: str,
    ) -> Placed:
        """`checkout.place`, in one transaction with the calls that arrive with it."""
        return await self._batcher.submit(Checkout(channel_id, order_for, key, actor))

    async def _run(self, checkouts: list[Checkout]) -> dict[Checkout, Placed | Exception]:
        try:
            outcomes = await place_all(self._uows, checkouts, clock=self._clock)
        except Exception as error:
            if len(checkouts) == 1:
                raise
            if self._on_batch_failure is not None:
                self._on_batch_failure(error)
            return {checkout: await self._alone(checkout) for checkout in checkouts}
        return dict(zip(checkouts, outcomes, strict=True))

    async def _alone(self, checkout: Checkout) -> Placed | Exception:
        try:
            [outcome] = await place_all(self._uows, [checkout], clock=self._clock)
        except Exception as error:
            return error
        return outcome
