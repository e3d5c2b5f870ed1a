"""Manual conflicts: a person decides who gets the last unit, and what becomes of the loser.

Under the `manual` policy a line that found no unit is held, `short`, with an open conflict
(see `allocation`). Its parties are its own order and every order holding a unit of the SKU
where the contesting order may take one. A person names the winner:

- a holder: it keeps its unit; the contesting line is backordered (then filled when stock
  comes, like any backorder) or cancelled and its channel told;
- the contesting order: it gets a unit, free stock if there is some now, else taken back from
  the latest-placed holder it may take from (`precedence.takeable`); that holder's line is
  backordered or cancelled as the person said.

The conflict is claimed first (one conditional update: resolving twice, even at once, is one
resolution; the other gets ILLEGAL_STATE); if the unit cannot be had after all, the claim is
undone and nothing changed. The resolution, its actor and reason are on the contesting
order's history. A conflict open longer than a setting raises one alert (`alert_aged`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine
from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InvalidInput, NotFound
from domain.inventory import reservations
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.model import Reservation, ReservationStatus
from domain.inventory.zones import destination
from domain.jobs import BACKORDER_JOB
from domain.orders import losing
from domain.orders.allocation import (
    Outcome,
    order_status,
    record,
    reference,
    take_back,
)
from domain.orders.events import order_event
from domain.orders.model import Conflict, LineStatus, Order, OrderLine, Transition
from domain.orders.precedence import precedence, takeable
from domain.orders.routing import route, usable_locations
from domain.ports import UnitOfWorkFactory

MAX_REASON = 200
AGED_BATCH = 100


@dataclass(frozen=True, slots=True)
class _Party:
    order: Order
    hold: Reservation
    takeable: bool


@dataclass(frozen=True, slots=True)
class _Case:
    conflict: Conflict
    order: Order
    line: OrderLine
    holders: list[_Party]  # latest placed first


async def resolve(
    uows: UnitOfWorkFactory,
    *,
    conflict_id: uuid.UUID,
    winner: uuid.UUID,
    loser_action: LosingLine,
    reason: str,
    actor: str,
    clock: Clock = utcnow,
) -> Order:
    """Settle an open manual conflict as a person decided; the contesting order after it."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"give a reason of 1 to {MAX_REASON} characters", field="reason")
    case = await _read(uows, conflict_id)
    if winner != case.order.id and winner not in {p.order.id for p in case.holders}:
        raise InvalidInput(
            f"order {winner} is not a party to this conflict: the contesting order or one "
            "holding its SKU",
            field="winner",
        )
    if winner == case.order.id:
        return await _contesting_wins(uows, case, loser_action, reason, actor, clock)
    return await _holder_wins(uows, case, winner, loser_action, reason, actor, clock())


async def _read(uows: UnitOfWorkFactory, conflict_id: uuid.UUID) -> _Case:
    async with uows(readonly=True) as uow:
        conflict = await uow.orders.get_conflict(conflict_id)
        if conflict is None:
            raise NotFound(f"unknown conflict {conflict_id}", field="conflictId")
        if conflict.policy is not ConflictPolicy.MANUAL:
            raise IllegalState("only a manual conflict waits for a person", field="conflictId")
        if not conflict.open:
            raise IllegalState(
                f"already resolved by {conflict.resolved_by}: {conflict.decision}",
                field="conflictId",
            )
        order = await uow.orders.get(conflict.order_id)
        line = (
            next((ln for ln in order.lines if ln.id == conflict.line_id), None) if order else None
        )
        if order is None or line is None or line.status is not LineStatus.SHORT:
            raise IllegalState("the conflict's line no longer waits for a unit", field="conflictId")
        channel = await uow.channels.get(order.channel_id)
        config = await uow.channel_configs.get(order.channel_id)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
        usable = usable_locations(channel.location_ids if channel else [], locations, fulfilment)
        held = await uow.inventory.list_reservations(
            sku=conflict.sku, status=ReservationStatus.ACTIVE, reference=None, first=500,
            after=None,
        )  # fmt: skip
        channels = {c.id: c for c in await uow.channels.all()}
        holders: list[_Party] = []
        for hold in held:
            other_id = _order_of(hold)
            if other_id in (None, order.id) or hold.location_id not in usable:
                continue
            if hold.quantity < line.quantity:
                continue
            assert other_id is not None
            other = await uow.orders.get(other_id)
            theirs = channels.get(other.channel_id) if other else None
            if other is not None and theirs is not None:
                holders.append(_Party(other, hold, takeable(other, theirs)))
    holders.sort(key=lambda p: precedence(p.order), reverse=True)
    return _Case(conflict, order, line, holders)


def _order_of(hold: Reservation) -> uuid.UUID | None:
    held_by = hold.reference or ""
    if not held_by.startswith("order:"):
        return None
    try:
        return uuid.UUID(held_by.removeprefix("order:"))
    except ValueError:
        return None


def _name(order: Order) -> str:
    return order.number or str(order.id)


async def _claim(
    uows: UnitOfWorkFactory, case: _Case, decision: str, actor: str, now: datetime
) -> None:
    async with uows() as uow:
        if not await uow.orders.resolve_conflict(
            case.conflict.id, at=now, by=actor, decision=decision
        ):
            raise IllegalState("already resolved", field="conflictId")
        await uow.commit()


async def _unclaim(uows: UnitOfWorkFactory, case: _Case) -> None:
    async with uows() as uow:
        await uow.orders.reopen_conflict(case.conflict.id)
        await uow.commit()


async def _holder_wins(
    uows: UnitOfWorkFactory,
    case: _Case,
    winner: uuid.UUID,
    loser_action: LosingLine,
    reason: str,
    actor: str,
    now: datetime,
) -> Order:
    """The holder keeps its unit; the contesting line is backordered or cancelled."""
    kept = next(p.order for p in case.holders if p.order.id == winner)
    why = f"conflict resolved by {actor}: order {_name(kept)} keeps the unit ({reason})"
    async with uows() as uow:
        current = await uow.orders.lock(case.order.id)
        assert current is not None
        line = next((ln for ln in current.lines if ln.id == case.line.id), None)
        if line is None or line.status is not LineStatus.SHORT:
            raise IllegalState("the conflict's line no longer waits for a unit", field="conflictId")
        settled, decision = losing.settle(line, loser_action, why)
        if not await uow.orders.resolve_conflict(
            case.conflict.id, at=now, by=actor, decision=decision
        ):
            raise IllegalState("already resolved", field="conflictId")
        lines = tuple(settled if ln.id == line.id else ln for ln in current.lines)
        status = order_status(lines, current.status)
        updated = replace(current, lines=lines, status=status, updated_at=now)
        await uow.orders.save(updated, [settled])
        await uow.orders.add_transition(
            Transition(current.id, current.status, status, actor, decision, now)
        )
        await losing.tell_channel(uow, updated, [settled], decision, now)
        uow.emit(order_event(updated, "conflict_resolved", decision))
        if settled.status is LineStatus.SHORT and settled.sku:
            # Backordered: no longer held for a person, it is filled when stock comes.
            uow.enqueue_after_commit(BACKORDER_JOB, settled.sku)
        await uow.commit()
    return updated


async def _contesting_wins(
    uows: UnitOfWorkFactory,
    case: _Case,
    loser_action: LosingLine,
    reason: str,
    actor: str,
    clock: Clock,
) -> Order:
    """The contesting line gets a unit: free stock, else a holder's (which then loses)."""
    why = f"conflict resolved by {actor}: this order gets the unit ({reason})"
    await _claim(uows, case, why, actor, clock())
    try:
        outcome = await _unit_for(uows, case, loser_action, why, actor, clock)
    except Exception:
        await _unclaim(uows, case)
        raise
    if outcome is None:
        await _unclaim(uows, case)
        raise IllegalState(
            "no unit to give it: none is free and no holder's may be taken back (shipped, "
            "or confirmed at a web store's checkout)",
            field="winner",
        )
    return await record(uows, case.order, outcome, actor, clock())


async def _unit_for(
    uows: UnitOfWorkFactory,
    case: _Case,
    loser_action: LosingLine,
    why: str,
    actor: str,
    clock: Clock,
) -> Outcome | None:
    order, line = case.order, case.line
    assert line.sku is not None
    outcome = Outcome({}, [], set(), LosingLine.BACKORDER)
    async with uows(readonly=True) as uow:
        channel = await uow.channels.get(order.channel_id)
        config = await uow.channel_configs.get(order.channel_id)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots([line.sku])
    fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
    free = route(
        [line], channel.location_ids if channel else [], locations, snapshots, fulfilment,
        destination(order.shipping_address),
    )  # fmt: skip
    if line.id in free:
        got = await reservations.reserve_lines(
            uows, lines=[LineRequest(line.sku, line.quantity, free[line.id].location_id)],
            mode=LineMode.PARTIAL, key=f"resolve:{case.conflict.id}", actor=actor,
            reference=reference(order.id), clock=clock,
        )  # fmt: skip
        held = got.lines[0].reservation
        if held is not None:
            outcome.lines[line.id] = replace(
                line, status=LineStatus.ALLOCATED, location_id=held.location_id,
                reservation_id=held.id, routed_by=f"{why}: {free[line.id].rule}"[:300],
            )  # fmt: skip
            return outcome
    for party in case.holders:
        if not party.takeable:
            continue
        said = f"lost the last unit to order {_name(order)} ({why})"
        lost = Conflict(uuid.uuid4(), party.order.id, uuid.uuid4(), line.sku, party.hold.quantity,
                        ConflictPolicy.MANUAL, said, order.id, clock(), resolved_at=clock(),
                        resolved_by=actor, decision=said)  # fmt: skip
        taken = await take_back(
            uows, order, line, party.order, party.hold, lost, actor, clock, becomes=loser_action
        )
        if taken is None:
            continue
        outcome.lines[line.id] = replace(taken, routed_by=f"{why}: {taken.routed_by}"[:300])
        return outcome
    return None


async def alert_aged(
    uows: UnitOfWorkFactory, *, older_than: timedelta, clock: Clock = utcnow
) -> list[Conflict]:
    """An alert for each manual conflict open longer than `older_than`, once each (several
    sweeps at once claim each conflict once)."""
    now = clock()
    async with uows() as uow:
        aged = await uow.orders.claim_aged_conflicts(now - older_than, now, AGED_BATCH)
        for conflict in aged:
            order = await uow.orders.get(conflict.order_id)
            name = _name(order) if order else str(conflict.order_id)
            alert = Alert(
                id=uuid.uuid4(), kind=AlertKind.CONFLICT_WAITING, sku=conflict.sku, available=0,
                threshold=None, created_at=now,
                channel_id=order.channel_id if order else None,
                message=f"order {name}: a manual conflict has waited since "
                f"{conflict.created_at.isoformat()} for a person to resolve it",
            )  # fmt: skip
            await uow.alerts.add(alert)
            uow.emit(alert_raised(alert))
        await uow.commit()
    return aged
