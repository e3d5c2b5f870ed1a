"""Routing: which location ships each line. A pure function of the channel and the stock.

A channel's fulfilment decides which stock its orders may take. A merchant-fulfilled
channel (the default) ships from the hub's own locations among the channel's, never from
`channel_managed` stock: the whole order from one location (the channel's locations in
their configured order, so fewer parcels); otherwise each line from the first of those
locations that has it (a split); otherwise from a dropship location (a supplier ships it).
A channel-managed channel (FBA-style: the channel holds the stock and ships it) takes only
the stock at its own `channel_managed` locations, by the same whole-then-split rules, with
no dropship fallback. A line no allowed location can serve is left unrouted: that is a
last-unit conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.channels.policies import Fulfilment
from domain.inventory.model import Location, LocationKind, SkuSnapshot
from domain.orders.model import OrderLine


@dataclass(frozen=True, slots=True)
class Route:
    location_id: uuid.UUID
    rule: str


def _available(snapshot: SkuSnapshot | None, location_id: uuid.UUID) -> int:
    if snapshot is None:
        return 0
    level = snapshot.level_at(location_id)
    return level.available if level is not None else 0


def own_locations(
    channel_locations: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    fulfilment: Fulfilment,
) -> list[uuid.UUID]:
    """The channel's locations its orders ship from, in the channel's order."""
    managed = fulfilment is Fulfilment.CHANNEL_MANAGED
    return [
        loc for loc in channel_locations
        if loc in locations and (locations[loc].kind is LocationKind.CHANNEL_MANAGED) == managed
    ]  # fmt: skip


def fallback_locations(
    locations: Mapping[uuid.UUID, Location], fulfilment: Fulfilment
) -> list[uuid.UUID]:
    """Dropship locations, by code, for merchant-fulfilled orders only."""
    if fulfilment is Fulfilment.CHANNEL_MANAGED:
        return []
    dropship = [loc for loc in locations.values() if loc.kind is LocationKind.DROPSHIP]
    return [loc.id for loc in sorted(dropship, key=lambda loc: loc.code)]


def usable_locations(
    channel_locations: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    fulfilment: Fulfilment,
) -> set[uuid.UUID]:
    """Every location the channel's orders may hold stock at (where a unit may be taken)."""
    return set(own_locations(channel_locations, locations, fulfilment)) | set(
        fallback_locations(locations, fulfilment)
    )


def route(
    lines: Sequence[OrderLine],
    channel_locations: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    snapshots: Mapping[str, SkuSnapshot],
    fulfilment: Fulfilment = Fulfilment.MERCHANT,
) -> dict[uuid.UUID, Route]:
    """A location and the rule that chose it, per line that can be served."""
    own = own_locations(channel_locations, locations, fulfilment)
    by = " (channel-managed)" if fulfilment is Fulfilment.CHANNEL_MANAGED else ""
    for location_id in own:
        if all(
            ln.sku and _available(snapshots.get(ln.sku), location_id) >= ln.quantity for ln in lines
        ):
            rule = f"whole order from {locations[location_id].code}{by}"
            return {ln.id: Route(location_id, rule) for ln in lines}
    left: dict[tuple[str, uuid.UUID], int] = {}
    routes: dict[uuid.UUID, Route] = {}
    for line in lines:
        if not line.sku:
            continue
        options = [
            (loc, f"split: first location with stock ({locations[loc].code}){by}") for loc in own
        ]
        options += [
            (loc, f"dropship fallback ({locations[loc].code})")
            for loc in fallback_locations(locations, fulfilment)
        ]
        for location_id, rule in options:
            slot = (line.sku, location_id)
            free = left.get(slot, _available(snapshots.get(line.sku), location_id))
            if free >= line.quantity:
                left[slot] = free - line.quantity
                routes[line.id] = Route(location_id, rule)
                break
    return routes
