"""Reading the end: what the database and the marketplaces hold once the run is over."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.faults.marketplaces import Marketplace
from bench.faults.model import EndState, Level, Line, Movement, Order, Reservation


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def read_database(conn: asyncpg.Connection) -> EndState:
    end = EndState()
    end.levels = [
        Level(r["sku"], str(r["location_id"]), r["on_hand"], r["reserved"])
        for r in await conn.fetch("SELECT sku, location_id, on_hand, reserved FROM stock_levels")
    ]
    end.movements = [
        Movement(
            str(r["id"]),
            r["sku"],
            str(r["location_id"]),
            r["on_hand_delta"],
            r["reserved_delta"],
            r["reason"],
            _epoch(r["created_at"]),
            r["operation_key"],
            r["reference"],
            r["detail"],
        )
        for r in await conn.fetch(
            "SELECT id, sku, location_id, on_hand_delta, reserved_delta, reason, created_at,"
            " operation_key, reference, detail FROM stock_movements"
        )
    ]
    lines: dict[str, list[Line]] = {}
    for r in await conn.fetch(
        "SELECT id, order_id, sku, quantity, status, reservation_id, shipped_quantity"
        " FROM order_lines ORDER BY order_id, position"
    ):
        lines.setdefault(str(r["order_id"]), []).append(
            Line(
                str(r["id"]),
                r["sku"],
                r["quantity"],
                r["status"],
                _text(r["reservation_id"]),
                r["shipped_quantity"],
            )
        )
    end.orders = [
        Order(
            str(r["id"]),
            str(r["channel_id"]),
            r["external_id"],
            r["status"],
            tuple(lines.get(str(r["id"]), ())),
        )
        for r in await conn.fetch("SELECT id, channel_id, external_id, status FROM orders")
    ]
    end.reservations = [
        Reservation(
            str(r["id"]),
            r["sku"],
            str(r["location_id"]),
            r["quantity"],
            r["status"],
            r["reference"],
        )
        for r in await conn.fetch(
            "SELECT id, sku, location_id, quantity, status, reference FROM reservations"
        )
    ]
    end.shipments = [
        (str(r["order_id"]), r["tracking_number"])
        for r in await conn.fetch("SELECT order_id, tracking_number FROM shipments")
    ]
    end.dead_outbox = [
        (r["kind"], r["key"], r["last_error"])
        for r in await conn.fetch("SELECT kind, key, last_error FROM outbox WHERE status = 'dead'")
    ]
    await _explaining(conn, end)
    return end


async def _explaining(conn: asyncpg.Connection, end: EndState) -> None:
    end.outbox = [
        [
            r["kind"],
            r["key"],
            r["status"],
            r["attempts"],
            r["last_error"],
            str(r["channel_id"]),
            _epoch(r["available_at"]),
        ]
        for r in await conn.fetch(
            "SELECT kind, key, status, attempts, last_error, channel_id, available_at FROM outbox"
        )
    ]
    end.inbox_open = [
        [r["topic"], r["sku"], r["status"], r["error"]]
        for r in await conn.fetch(
            "SELECT topic, sku, status, error FROM inbox WHERE status IN ('received', 'failed')"
        )
    ]
    end.sync_calls = [
        [_epoch(r["created_at"]), r["operation"], _keys(r["keys"]), r["outcome"], r["message"]]
        for r in await conn.fetch(
            "SELECT created_at, operation, keys, outcome, message FROM sync_log ORDER BY created_at"
        )
    ]


def _keys(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value)


def add_shop(end: EndState, state: dict[str, Any]) -> EndState:
    """The shop's orders and the tracking numbers of its fulfillments."""
    end.shop_orders = [order["id"] for order in state["orders"]]
    for fulfillment in state["fulfillments"]:
        numbers = [t["number"] for t in fulfillment["trackingInfo"]]
        end.shop_fulfilled.setdefault(fulfillment["orderId"], []).extend(numbers)
    return end


async def add_marketplaces(end: EndState, markets: dict[str, Marketplace]) -> EndState:
    """The orders each marketplace other than the shop holds, and the tracking numbers they
    were told (Amazon's sandbox lists none: it is asked for each order Nexo took from it)."""
    for kind, market in markets.items():
        known = [o.external_id for o in end.orders if o.channel == market.channel]
        end.marketplace_orders[kind] = await market.orders(known)
        end.marketplace_fulfilled[kind] = await market.fulfilled(known)
    return end
