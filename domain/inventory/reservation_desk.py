"""Single reservations that arrive together, held in one transaction (a group commit).

Under load, an API process serves many `reserveStock` calls at once. Each alone pays a
transaction and a round trip per statement, and calls on a hot SKU queue on its row lock
one commit at a time. The desk gathers the calls that arrive while a batch is being held
(`Batcher`) and holds them all in one transaction: the levels of their SKUs are locked in
the one fixed order, each call in turn takes what the calls before it left, and each
level changes once for the batch (`holding.hold_all`).

What each call gets is what `reserve` would give it: the same checks and errors, the same
reservation, ledger row and key claim (kind, fingerprint and result), so a replay of the
key finds it either way. Anything else is left to `reserve`, one by one, which stays the
reference:
- a call that arrives alone (no one to share with: the shortest path serves it);
- a call the stock cannot cover, or whose SKU or location is unknown (`reserve` says why);
- a call whose key is taken (by an earlier call, a concurrent one, or one before it in
  the same batch): `reserve` replays it or refuses the reuse;
- every call of a batch that fails as a whole (logged through `on_batch_failure`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.batching import Batcher
from domain.inventory.holding import HoldRequest, hold_all
from domain.inventory.idempotency import Operation, check_key, fingerprint
from domain.inventory.model import Reservation
from domain.inventory.reservations import (
    RESERVE_KIND,
    LineRequest,
    ReservationResult,
    choose_location,
    expiry,
    reserve,
    reserve_request,
)
from domain.inventory.stock import Clock, check_positive, utcnow
from domain.ports import UnitOfWorkFactory

MAX_BATCH = 200


@dataclass(eq=False)  # each call is its own, even with the same input
class _Call:
    sku: str
    quantity: int
    key: str
    actor: str
    location_id: uuid.UUID | None
    reference: str | None
    expires_in_seconds: int | None
    expires_at: datetime | None
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        request = reserve_request(
            self.sku, self.quantity, self.location_id, self.reference, self.expires_in_seconds
        )
        self.fingerprint = fingerprint(RESERVE_KIND, request)

    def claim(self, held: tuple[Reservation, ...], now: datetime) -> Operation:
        """The claim `reserve` records for this key."""
        (reservation,) = held
        return Operation(
            key=self.key,
            kind=RESERVE_KIND,
            fingerprint=self.fingerprint,
            actor=self.actor,
            created_at=now,
            result={"reservationId": str(reservation.id)},
        )


class ReservationDesk:
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
        self._batcher: Batcher[_Call, Reservation | None] = Batcher(self._run, max_size=max_batch)

    @property
    def batches(self) -> int:
        """Batches run so far (for tests and metrics)."""
        return self._batcher.rounds

    async def reserve(
        self,
        *,
        sku: str,
        quantity: int,
        key: str,
        actor: str,
        location_id: uuid.UUID | None = None,
        reference: str | None = None,
        expires_in_seconds: int | None = None,
    ) -> ReservationResult:
        """`reservations.reserve`, held together with the calls that arrive with it."""
        check_positive(quantity)
        # A bad expiry is refused here, before any batch.
        expires_at = expiry(self._clock(), expires_in_seconds)
        call = _Call(
            sku, quantity, check_key(key), actor, location_id, reference, expires_in_seconds,
            expires_at,
        )  # fmt: skip
        held = await self._batcher.submit(call)
        if held is not None:
            return ReservationResult(held)
        return await reserve(
            self._uows,
            sku=sku,
            quantity=quantity,
            key=key,
            actor=actor,
            location_id=location_id,
            reference=reference,
            expires_in_seconds=expires_in_seconds,
            clock=self._clock,
        )

    async def _run(self, calls: list[_Call]) -> dict[_Call, Reservation | None]:
        """Each call's reservation, or None for a call left to `reserve`."""
        outcome: dict[_Call, Reservation | None] = dict.fromkeys(calls)
        firsts: dict[str, _Call] = {}
        for call in calls:
            firsts.setdefault(call.key, call)  # a key's later calls replay the first
        if len(firsts) < 2:
            return outcome
        try:
            outcome.update(await self._hold(list(firsts.values())))
        except Exception as error:
            if self._on_batch_failure is not None:
                self._on_batch_failure(error)
        return outcome

    async def _hold(self, calls: list[_Call]) -> dict[_Call, Reservation]:
        now = self._clock()
        async with self._uows() as uow:
            locked = await uow.inventory.lock_snapshots(sorted({c.sku for c in calls}))
            available = {
                (sku, entry.level.location_id): entry.level.available
                for sku, snapshot in locked.items()
                for entry in snapshot.levels
            }
            requests: dict[str, tuple[_Call, HoldRequest]] = {}
            for call in calls:
                snapshot = locked.get(call.sku)
                if snapshot is None:
                    continue
                line = LineRequest(call.sku, call.quantity, call.location_id)
                chosen = choose_location(snapshot, line, available)
                if chosen is None:
                    continue
                available[(call.sku, chosen)] -= call.quantity
                request = HoldRequest(
                    key=call.key,
                    actor=call.actor,
                    reference=call.reference,
                    lines=(LineRequest(call.sku, call.quantity, chosen),),
                    expires_at=call.expires_at,
                )
                requests[call.key] = (call, request)
            if not requests:
                return {}
            held = await hold_all(
                uow,
                [request for _, request in requests.values()],
                locked,
                now=now,
                claim_for=lambda request, held, at: requests[request.key][0].claim(held, at),
            )
            await uow.commit()
        return {requests[key][0]: reservations[0] for key, reservations in held.items()}
