"""Routing: which location ships each line. A pure function of the channel and the stock.

Rules, in order: the whole order from one location (the channel's locations in their
configured order, so fewer parcels); otherwise each line from the first of those locations
that has it (a split); otherwise from a dropship location (a supplier ships it). A line no
location can serve is left unrouted: that is a last-unit conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


def route(
    lines: Sequence[OrderLine],
    channel_locations: Sequence[uuid.UUID],
    locations: Mapping[uuid.UUID, Location],
    snapshots: Mapping[str, SkuSnapshot],
) -> dict[uuid.UUID, Route]:
    """A location and the rule that chose it, per line that can be served."""
    own = [
        loc for loc in channel_locations
        if loc in locations and locations[loc].kind is not LocationKind.CHANNEL_MANAGED
    ]  # fmt: skip
    for location_id in own:
        if all(
            ln.sku and _available(snapshots.get(ln.sku), location_id) >= ln.quantity for ln in lines
        ):
            rule = f"whole order from {locations[location_id].code}"
            return {ln.id: Route(location_id, rule) for ln in lines}
    dropship = sorted(
        (loc for loc in locations.values() if loc.kind is LocationKind.DROPSHIP),
        key=lambda loc: loc.code,
    )
    left: dict[tuple[str, uuid.UUID], int] = {}
    routes: dict[uuid.UUID, Route] = {}
    for line in lines:
        if not line.sku:
            continue
        options = [
            (loc, f"split: first location with stock ({locations[loc].code})") for loc in own
        ]
        options += [(loc.id, f"dropship fallback ({loc.code})") for loc in dropship]
        for location_id, rule in options:
            slot = (line.sku, location_id)
            free = left.get(slot, _available(snapshots.get(line.sku), location_id))
            if free >= line.quantity:
                left[slot] = free - line.quantity
                routes[line.id] = Route(location_id, rule)
                break
    return routes
