"""What the checker reads: the recorded history (plain JSON records) and the state at the end.

The history is a list of dicts, one per line of the JSONL file (see recorder.py for their
kinds). The end state is what the database and the marketplaces hold once the run is over, read by
endstate.py; both are plain data so the checker can be fed by hand in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Level:
    sku: str
    location: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class Movement:
    id: str
    sku: str
    location: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    at: float  # seconds since the epoch (the row's created_at)
    key: str | None = None
    reference: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Line:
    id: str
    sku: str | None
    quantity: int
    status: str
    reservation: str | None = None
    shipped: int = 0


@dataclass(frozen=True)
class Order:
    id: str
    channel: str
    external_id: str
    status: str
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Reservation:
    id: str
    sku: str
    location: str
    quantity: int
    status: str
    reference: str | None = None


@dataclass
class EndState:
    """The database and the shop once the load, the faults and the drain are over."""

    levels: list[Level] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    shipments: list[tuple[str, str]] = field(default_factory=list)  # (order id, tracking no.)
    dead_outbox: list[tuple[str, str, str | None]] = field(default_factory=list)  # kind, key, why
    shop_orders: list[str] = field(default_factory=list)  # every order id the shop holds
    # Every order id each other marketplace holds: kind (amazon, ebay, mercadolibre) -> ids.
    marketplace_orders: dict[str, list[str]] = field(default_factory=dict)
    marketplace_fulfilled: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    shop_fulfilled: dict[str, list[str]] = field(default_factory=dict)  # order -> tracking nos.
    # For explaining, not judging: what still waits to go out or to be processed, and the
    # calls made to the channel (at, operation, keys, outcome, message).
    # kind, key, status, attempts, error, channel id, available at (s since the epoch)
    outbox: list[list[Any]] = field(default_factory=list)
    inbox_open: list[list[Any]] = field(default_factory=list)  # topic, sku, status, error
    sync_calls: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EndState:
        return cls(
            levels=[Level(**x) for x in data["levels"]],
            movements=[Movement(**x) for x in data["movements"]],
            orders=[
                Order(**{**x, "lines": tuple(Line(**ln) for ln in x["lines"])})
                for x in data["orders"]
            ],
            reservations=[Reservation(**x) for x in data["reservations"]],
            shipments=[tuple(x) for x in data["shipments"]],
            dead_outbox=[tuple(x) for x in data["dead_outbox"]],
            shop_orders=list(data["shop_orders"]),
            marketplace_orders=dict(data.get("marketplace_orders", {})),
            marketplace_fulfilled=dict(data.get("marketplace_fulfilled", {})),
            shop_fulfilled=dict(data["shop_fulfilled"]),
            outbox=list(data.get("outbox", [])),
            inbox_open=list(data.get("inbox_open", [])),
            sync_calls=list(data.get("sync_calls", [])),
        )
