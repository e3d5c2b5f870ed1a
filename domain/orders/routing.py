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

Zones come first: given the order's destination, the locations whose shipping zones name it
go before those with no zones (which ship everywhere), and those whose zones leave it out go
last (still used rather than leaving the order stuck, and said so). Among equals, one that
can ship the whole order goes first; then the channel's order. The rule that chose says which
of these decided ("zone DE: whole order from WH2").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.channels.policies import Fulfilment
from domain.inventory.model import Location, LocationKind, SkuSnapshot
from domain.inventory.zones import Destination, Reach, reach
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


def _ranked(
    own: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    destination: Destination | None,
    whole: set[uuid.UUID],
) -> list[uuid.UUID]:
    """The channel's own locations best first: by reach of the destination, then those that
    ship the whole order, then the channel's order."""
    return sorted(
        own,
        key=lambda loc: (reach(locations[loc].zones, destination), loc not in whole,
                         own.index(loc)),
    )  # fmt: skip


def _why(location: Location, destination: Destination | None) -> str:
    """What the location's zones said about the destination, as a prefix of the rule."""
    found = reach(location.zones, destination)
    if found is Reach.ZONE:
        return f"zone {destination}: "
    if found is Reach.OUTSIDE:
        return f"outside its zones ({destination}): "
    return ""


def route(
    lines: Sequence[OrderLine],
    channel_locations: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    snapshots: Mapping[str, SkuSnapshot],
    fulfilment: Fulfilment = Fulfilment.MERCHANT,
    destination: Destination | None = None,
) -> dict[uuid.UUID, Route]:
    """A location and the rule that chose it, per line that can be served."""
    by = " (channel-managed)" if fulfilment is Fulfilment.CHANNEL_MANAGED else ""
    own = own_locations(channel_locations, locations, fulfilment)
    whole = {
        loc for loc in own
        if all(ln.sku and _available(snapshots.get(ln.sku), loc) >= ln.quantity for ln in lines)
    }  # fmt: skip
    ranked = _ranked(own, locations, destination, whole)
    if ranked and ranked[0] in whole:
        best = locations[ranked[0]]
        rule = f"{_why(best, destination)}whole order from {best.code}{by}"
        return {ln.id: Route(best.id, rule) for ln in lines}
    left: dict[tuple[str, uuid.UUID], int] = {}
    routes: dict[uuid.UUID, Route] = {}
    for line in lines:
        if not line.sku:
            continue
        options = [
            (loc, f"{_why(locations[loc], destination)}split: first location with stock "
                  f"({locations[loc].code}){by}")
            for loc in ranked
        ]  # fmt: skip
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
