"""The minimal history behind a violation: what touched one SKU or one order, in order.

History records carry times relative to the run's start (monotonic); ledger rows carry wall
times. The setup record holds the wall time of the start, so both can be merged in one list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bench.faults.model import Movement, Record

MAX_LINES = 40


def epoch_of(history: list[Record]) -> float:
    """Wall time (s since the epoch) of the run's t = 0, from the setup record."""
    for record in history:
        if record.get("type") == "setup":
            return float(record.get("epoch", 0.0))
    return 0.0


def touches(
    record: Record,
    *,
    sku: str | None = None,
    order: str | None = None,
    cart: str | None = None,
    external: str | None = None,
) -> bool:
    if record.get("type") != "op":
        return False
    return bool(
        (sku is not None and sku in (record.get("skus") or ()))
        or (order is not None and record.get("order") == order)
        or (cart is not None and record.get("cart") == cart)
        or (external is not None and record.get("external") == external)
    )


def describe_op(record: Record) -> str:
    errors = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in record.get("errors") or ())
    subject = " ".join(
        f"{name}={record[name]}" for name in ("cart", "order", "external") if record.get(name)
    )
    attempts = record.get("attempts") or []
    servers = ",".join(str(a.get("server")) for a in attempts)
    answer = record.get("response")
    return (
        f"+{float(record.get('t0', 0.0)):8.3f}s op#{record.get('seq')} {record.get('kind')} "
        f"[{servers}] {record.get('outcome')} {subject} request={record.get('request')}"
        + (f" answer={answer}" if answer else "")
        + (f" errors=[{errors}]" if errors else "")
    ).rstrip()


def describe_movement(movement: Movement, epoch: float) -> str:
    stamp = datetime.fromtimestamp(movement.at, UTC).strftime("%H:%M:%S.%f")[:-3]
    return (
        f"+{movement.at - epoch:8.3f}s ledger {stamp} {movement.sku}@{movement.location[:8]} "
        f"{movement.reason} on_hand{movement.on_hand_delta:+d} "
        f"reserved{movement.reserved_delta:+d} key={movement.key} ref={movement.reference}"
        + (f" ({movement.detail})" if movement.detail else "")
    )


def trail(
    history: list[Record],
    *,
    sku: str | None = None,
    order: str | None = None,
    cart: str | None = None,
    external: str | None = None,
    movements: Iterable[Movement] = (),
    until: float | None = None,
    extra: Iterable[tuple[float, str]] = (),
) -> tuple[str, ...]:
    """Operations touching the subject and the given ledger rows, merged by time, up to
    `until` (run seconds) when given; the last MAX_LINES of them."""
    epoch = epoch_of(history)
    lines: list[tuple[float, str]] = [
        (float(r.get("t0", 0.0)), describe_op(r))
        for r in history
        if touches(r, sku=sku, order=order, cart=cart, external=external)
    ]
    lines += [(m.at - epoch, describe_movement(m, epoch)) for m in movements]
    lines += list(extra)
    if until is not None:
        lines = [line for line in lines if line[0] <= until]
    lines.sort(key=lambda line: line[0])
    shown = [text for _, text in lines[-MAX_LINES:]]
    if len(lines) > MAX_LINES:
        shown.insert(0, f"... {len(lines) - MAX_LINES} earlier lines")
    return tuple(shown)
