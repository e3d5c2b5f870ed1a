"""Backorders: a line that lost the last unit is filled when stock comes.

A `short` line waits for stock. When units arrive (the commit that brought them asks for a
`fill` of the SKU, see `inventory.arrivals`; the periodic `sweep` finds arrivals no job saw,
releases included), the SKU's short lines are filled in the order the conflict policy
defines: first placed first, or, when every contending channel settles by channel priority,
the higher-priority channel's first. A line held for a person (an open manual conflict) is
left to that person; once resolved as backordered, it waits here like any other.

Each order's lines are routed as `allocation` routes (`route`, its own unrecorded holds
credited), held with `reserve_lines` under a key naming the lines, where they go and the
shortage they fill (the line's latest conflict), and recorded under the order's lock by
`allocation.record`: so runs racing over one arrival replay one another's hold, a line is
filled once, and a unit a run holds for a line already filled goes back. The order's history
shows each filled line, its event is published, and the channels fed by the location hear the
new quantity through the level change.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine
from domain.clock import Clock, utcnow
from domain.inventory import reservations
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.zones import destination
from domain.orders.allocation import Outcome, credited, record, reference, unrecorded_holds
from domain.orders.allocation_due import ALLOCATABLE
from domain.orders.model import Conflict, LineStatus, Order, OrderLine
from domain.orders.precedence import precedence
from domain.orders.routing import Route, route
from domain.ports import UnitOfWorkFactory

SWEEP_BATCH = 200


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A SKU's short lines that may be filled, by order, in the order they are served."""

    orders: list[tuple[Order, list[OrderLine]]]
    generations: dict[uuid.UUID, str]  # line -> the shortage it waits out (its last conflict)


async def fill(
    uows: UnitOfWorkFactory, sku: str, *, actor: str, why: str, clock: Clock = utcnow
) -> list[uuid.UUID]:
    """Fill what the SKU's available stock can of its short lines; the lines filled."""
    waiting = await _waiting(uows, sku)
    filled: list[uuid.UUID] = []
    for order, lines in waiting.orders:
        got = await _fill_order(
            uows, order.id, [ln.id for ln in lines], waiting.generations, actor, why, clock
        )
        if got is None:
            break  # none of the SKU is available anywhere: the orders after wait too
        filled += got
    return filled


async def _waiting(uows: UnitOfWorkFactory, sku: str) -> _Waiting:
    async with uows(readonly=True) as uow:
        short = [
            (order, line)
            for order, line in await uow.orders.holding(sku, [LineStatus.SHORT])
            if order.status in ALLOCATABLE
        ]
        if not short:
            return _Waiting([], {})
        conflicts = await uow.orders.line_conflicts([line.id for _, line in short])
        channels = {c.id: c for c in await uow.channels.all()}
        configs = await uow.channel_configs.all()
    held, generations = _held_for_a_person(conflicts)
    by_order: dict[uuid.UUID, tuple[Order, list[OrderLine]]] = {}
    for order, line in short:
        if line.id not in held and order.channel_id in channels:
            by_order.setdefault(order.id, (order, []))[1].append(line)
    ranked = sorted(
        by_order.values(), key=_rank([o for o, _ in by_order.values()], channels, configs)
    )
    return _Waiting(ranked, generations)


def _held_for_a_person(
    conflicts: Sequence[Conflict],
) -> tuple[set[uuid.UUID], dict[uuid.UUID, str]]:
    """Lines an open manual conflict holds for a person, and each line's latest conflict."""
    held = {c.line_id for c in conflicts if c.open}
    generations = {c.line_id: str(c.id) for c in conflicts}  # oldest first: the last stays
    return held, generations


def _rank(
    orders: Sequence[Order],
    channels: Mapping[uuid.UUID, Channel],
    configs: Mapping[uuid.UUID, ChannelConfig],
) -> Callable[[tuple[Order, list[OrderLine]]], tuple[int, tuple[datetime, datetime, str]]]:
    """The order backorders are served in: first placed first (`precedence`), unless every
    contending channel settles conflicts by priority, then the higher priority first."""

    def policy(order: Order) -> ConflictPolicy:
        config = configs.get(order.channel_id)
        return config.conflict_policy if config else ConflictPolicy.FIRST_COME

    by_priority = all(policy(o) is ConflictPolicy.CHANNEL_PRIORITY for o in orders)

    def key(entry: tuple[Order, list[OrderLine]]) -> tuple[int, tuple[datetime, datetime, str]]:
        order = entry[0]
        priority = channels[order.channel_id].priority if by_priority else 0
        return -priority, precedence(order)

    return key


def fill_key(
    order_id: uuid.UUID,
    routed: Sequence[OrderLine],
    routes: Mapping[uuid.UUID, Route],
    generations: Mapping[uuid.UUID, str],
) -> str:
    """The hold's idempotency key: these lines, where they go, and the shortage each fills
    (so a line short again later is filled anew, and runs racing now replay one hold)."""
    digest = hashlib.sha256(
        repr(
            [(str(ln.id), str(routes[ln.id].location_id), generations.get(ln.id)) for ln in routed]
        ).encode()
    ).hexdigest()[:16]
    return f"backorder:{order_id}:{digest}"


async def _fill_order(
    uows: UnitOfWorkFactory,
    order_id: uuid.UUID,
    line_ids: Sequence[uuid.UUID],
    generations: Mapping[uuid.UUID, str],
    actor: str,
    why: str,
    clock: Clock,
) -> list[uuid.UUID] | None:
    """The order's lines filled; None when the SKU has no unit available anywhere."""
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
        if order is None or order.status not in ALLOCATABLE:
            return []
        wanted = set(line_ids)
        lines = [ln for ln in order.lines if ln.id in wanted and ln.status is LineStatus.SHORT]
        channel = await uow.channels.get(order.channel_id)
        if not lines or channel is None:
            return []
        config = await uow.channel_configs.get(order.channel_id)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots(sorted({ln.sku for ln in lines if ln.sku}))
        unrecorded = await unrecorded_holds(uow, order)
    fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
    routes = route(
        lines, channel.location_ids, locations, credited(snapshots, unrecorded), fulfilment,
        destination(order.shipping_address),
    )  # fmt: skip
    routed = [ln for ln in lines if ln.id in routes]
    if not routed:
        snapshot = snapshots.get(lines[0].sku or "")
        gone = snapshot is None or all(e.level.available <= 0 for e in snapshot.levels)
        return None if gone else []
    result = await reservations.reserve_lines(
        uows, lines=[LineRequest(ln.sku or "", ln.quantity, routes[ln.id].location_id)
                     for ln in routed],
        mode=LineMode.PARTIAL, key=fill_key(order.id, routed, routes, generations),
        actor=actor, reference=reference(order.id), clock=clock,
    )  # fmt: skip
    outcome = Outcome({}, [], set(), config.losing_lines if config else LosingLine.BACKORDER)
    for line, got in zip(routed, result.lines, strict=True):
        if got.reservation is not None:
            outcome.lines[line.id] = replace(
                line, status=LineStatus.ALLOCATED, location_id=got.reservation.location_id,
                reservation_id=got.reservation.id,
                routed_by=f"backorder, {why}: {routes[line.id].rule}",
            )  # fmt: skip
    if not outcome.lines:
        return []
    if result.replayed and not await _still_short(uows, order.id, outcome.lines.keys()):
        return []  # a racing run filled them with this very hold and recorded it
    recorded = await record(uows, order, outcome, actor, clock())
    return [
        ln.id
        for ln in recorded.lines
        if ln.id in outcome.recorded and ln.status is LineStatus.ALLOCATED
    ]


async def _still_short(
    uows: UnitOfWorkFactory, order_id: uuid.UUID, line_ids: Iterable[uuid.UUID]
) -> bool:
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    wanted = set(line_ids)
    return order is not None and any(
        ln.id in wanted and ln.status is LineStatus.SHORT for ln in order.lines
    )


async def sweep(uows: UnitOfWorkFactory, *, actor: str, clock: Clock = utcnow) -> list[uuid.UUID]:
    """Fill the backorders of SKUs with stock available somewhere (arrivals no job saw, and
    units released). One indexed read when nothing is short."""
    async with uows(readonly=True) as uow:
        skus = await uow.orders.short_skus(SWEEP_BATCH)
        if not skus:
            return []
        snapshots = await uow.inventory.snapshots(skus)
    stocked = [
        sku
        for sku, snapshot in snapshots.items()
        if any(entry.level.available > 0 for entry in snapshot.levels)
    ]
    filled: list[uuid.UUID] = []
    for sku in sorted(stocked):
        filled += await fill(uows, sku, actor=actor, why="found by the sweep", clock=clock)
    return filled
