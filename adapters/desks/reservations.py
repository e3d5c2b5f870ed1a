"""Single reservations that arrive together, held in one transaction (a group commit).

Under load, an API process serves many `reserveStock` calls at once. Each alone pays a
transaction and a round trip per statement, and calls on a hot SKU queue on its row lock
one commit at a time. The desk gathers the calls that arrive while a batch is being held
(`Batcher`) and holds them all in one transaction: the levels of their SKUs are locked in
the one fixed order, each call in turn takes what the calls before it left, and each
level changes once for the batch (`holding.hold_all`).

A web store's cart (`checkoutReserve`: every line or none) joins the same batches: it gets
what `reserve_lines` in all-or-nothing mode would give it, and is left to that function when
the batch cannot hold it whole.

A call is checked once, as it arrives (`HoldCall`: a bad input is refused before any batch),
and gets what `reserve` would give it: the same reservation, ledger row and key record
through the same writer (`holding.hold_all`, with the call's `KeyClaim`), so a replay of the
key finds it either way. Anything else is held alone (`hold_single`, `hold_lines`: `reserve`
and `reserve_lines` for a checked call), which stays the reference:
- a call that arrives alone (no one to share with: the shortest path serves it);
- a call the stock cannot cover, or whose SKU or location is unknown (`reserve` says why);
- a call whose key is taken (by an earlier call, a concurrent one, or one before it in
  the same batch): `reserve` replays it or refuses the reuse;
- every call of a batch that fails as a whole (logged through `on_batch_failure`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from adapters.desks.batching import Batcher
from domain.clock import Clock, utcnow
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.holding import HoldRequest, hold_all
from domain.inventory.model import Reservation, SkuSnapshot
from domain.inventory.reservations import (
    HoldCall,
    LineOutcome,
    LinesResult,
    ReservationResult,
    choose_location,
    hold_lines,
    hold_single,
)
from domain.ports import UnitOfWorkFactory

MAX_BATCH = 200


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
        self._batcher: Batcher[HoldCall, tuple[Reservation, ...] | None] = Batcher(
            self._run, max_size=max_batch
        )

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
        call = HoldCall.single(
            sku=sku,
            quantity=quantity,
            key=key,
            actor=actor,
            location_id=location_id,
            reference=reference,
            expires_in_seconds=expires_in_seconds,
            now=self._clock(),
        )  # fmt: skip
        held = await self._batcher.submit(call)
        if held is not None:
            return ReservationResult(held[0])
        return await hold_single(self._uows, call)

    async def reserve_cart(
        self,
        *,
        lines: Sequence[LineRequest],
        key: str,
        actor: str,
        reference: str | None = None,
        expires_in_seconds: int | None = None,
    ) -> LinesResult:
        """`reservations.reserve_lines` (all or nothing), held together with the calls that
        arrive with it."""
        call = HoldCall.of_lines(
            lines=lines, mode=LineMode.ALL_OR_NOTHING, key=key, actor=actor,
            reference=reference, expires_in_seconds=expires_in_seconds, now=self._clock(),
        )  # fmt: skip
        held = await self._batcher.submit(call)
        if held is not None:
            return LinesResult([LineOutcome(ln, r) for ln, r in zip(lines, held, strict=True)])
        return await hold_lines(self._uows, call)

    async def _run(self, calls: list[HoldCall]) -> dict[HoldCall, tuple[Reservation, ...] | None]:
        """Each call's reservations, or None for a call left to the one-call operation."""
        outcome: dict[HoldCall, tuple[Reservation, ...] | None] = dict.fromkeys(calls)
        firsts: dict[str, HoldCall] = {}
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

    async def _hold(self, calls: list[HoldCall]) -> dict[HoldCall, tuple[Reservation, ...]]:
        now = self._clock()
        async with self._uows() as uow:
            locked = await uow.inventory.lock_snapshots(
                sorted({line.sku for call in calls for line in call.lines})
            )
            available = {
                (sku, entry.level.location_id): entry.level.available
                for sku, snapshot in locked.items()
                for entry in snapshot.levels
            }
            requests: dict[str, tuple[HoldCall, HoldRequest]] = {}
            for call in calls:
                chosen = _place(call, locked, available)
                if chosen is None:
                    continue
                request = HoldRequest(
                    call.key, call.actor, call.reference, chosen, call.claim, call.expires_at
                )
                requests[call.key] = (call, request)
            if not requests:
                return {}
            held = await hold_all(
                uow, [request for _, request in requests.values()], locked, now=now
            )
            await uow.commit()
        return {requests[key][0]: reservations for key, reservations in held.items()}


def _place(
    call: HoldCall,
    locked: dict[str, SkuSnapshot],
    available: dict[tuple[str, uuid.UUID], int],
) -> tuple[LineRequest, ...] | None:
    """Each line at the location it is held from, taken from `available`; None (nothing
    taken) when a line cannot be: the one-call operation says why."""
    chosen: list[LineRequest] = []
    for line in call.lines:
        snapshot = locked.get(line.sku)
        at = choose_location(snapshot, line, available) if snapshot else None
        if at is None:
            for taken in chosen:
                assert taken.location_id is not None
                available[(taken.sku, taken.location_id)] += taken.quantity
            return None
        available[(line.sku, at)] -= line.quantity
        chosen.append(LineRequest(line.sku, line.quantity, at))
    return tuple(chosen)
