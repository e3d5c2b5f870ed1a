"""The history checker: pure functions over what the harness recorded and what the end holds.

Each rule returns the violations it finds; each violation carries the minimal history that
shows it (the operations and ledger rows touching its SKU or order, in order). `check` runs
them all. Nothing here does I/O, so hand-made histories test every rule (tests/unit).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.faults.model import EndState, Line, Movement, Order, Record, Reservation
from bench.faults.trail import epoch_of, trail

RULES = (
    "webstore_order_held",
    "webstore_units_within_stock",
    "reserved_within_on_hand",
    "level_equals_ledger",
    "marketplace_order_once",
    "accepted_not_lost",
    "channel_converges",
    "no_phantom_edit",
)
# Where a line that was accepted may end without breaking the promise.
HELD_LINE = {"allocated", "partially_shipped"}
DONE_LINE = {"shipped"}
# A transaction commits at most this long after the time stamped on its ledger rows.
LEDGER_WINDOW = 2.0
# A channel's floor: how long its own limits may hold a figure back once its budget is spent.
# eBay revises a listing at most 250 times a day; Nexo budgets a burst of 20, then one revision
# every 86,400 / 210 s (adapters/channels/ebay/revisions.py), and defers the SKUs meanwhile.
CAPPED = {"ebay": 86_400 / 210}


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    message: str
    trail: tuple[str, ...] = ()

    def render(self) -> str:
        head = f"[{self.rule}] {self.subject}: {self.message}"
        return "\n".join([head, *(f"    {line}" for line in self.trail)])


# The history's facts -----------------------------------------------------------------------


def setup_of(history: list[Record]) -> Record:
    return next((r for r in history if r.get("type") == "setup"), {})


def ops(history: list[Record], *kinds: str) -> list[Record]:
    return [r for r in history if r.get("type") == "op" and (not kinds or r["kind"] in kinds)]


def accepted(history: list[Record], *kinds: str) -> list[Record]:
    return [r for r in ops(history, *kinds) if r.get("outcome") == "accepted"]


def tried(history: list[Record], kind: str) -> set[str]:
    """Orders the harness asked `kind` of, whatever the answer (a lost answer may have done it)."""
    return {r["order"] for r in ops(history, kind) if r.get("order")}


def web_orders(history: list[Record]) -> dict[str, Record]:
    """The web store orders `placeOrder` accepted: order id -> its operation."""
    return {r["order"]: r for r in accepted(history, "place_order") if r.get("order")}


def _by_id(end: EndState) -> dict[str, Order]:
    return {order.id: order for order in end.orders}


def _movements_of(end: EndState, sku: str) -> list[Movement]:
    return sorted((m for m in end.movements if m.sku == sku), key=lambda m: (m.at, m.id))


# Rules -------------------------------------------------------------------------------------


def webstore_order_held(history: list[Record], end: EndState) -> list[Violation]:
    """Every accepted web store order ends fully reserved or shipped (or undone by us)."""
    found: list[Violation] = []
    orders = _by_id(end)
    held = {r.id: r for r in end.reservations if r.status == "active"}
    cancelled, returned = tried(history, "cancel"), tried(history, "return")
    for order_id, op in web_orders(history).items():
        order = orders.get(order_id)
        if order is None:
            continue  # accepted_not_lost reports it
        if order.status == "cancelled" and order_id in cancelled:
            continue
        wrong = ["cancelled by Nexo"] if order.status == "cancelled" else []
        wrong += [
            f"{line.sku} x{line.quantity} {line.status}"
            + (f" (reservation {line.reservation} not active)" if line.status in HELD_LINE else "")
            for line in order.lines
            if not _line_kept(line, held, order_id in returned, order_id in cancelled)
        ]
        if wrong:
            found.append(
                Violation(
                    "webstore_order_held",
                    f"order {order_id}",
                    f"placeOrder accepted it, it ends {order.status}: " + ", ".join(wrong),
                    trail(
                        history,
                        order=order_id,
                        cart=op.get("cart"),
                        movements=[m for m in end.movements if m.reference == f"order:{order_id}"],
                    ),
                )
            )
    return found


def _line_kept(line: Line, held: dict[str, Reservation], returned: bool, cancelled: bool) -> bool:
    if line.status in DONE_LINE or (line.status == "returned" and returned):
        return True
    if line.status == "cancelled" and cancelled:
        return True
    if line.status not in HELD_LINE or line.reservation is None:
        return False
    reservation = held.get(line.reservation)
    return reservation is not None and reservation.quantity == line.quantity - line.shipped


def webstore_units_within_stock(history: list[Record], end: EndState) -> list[Violation]:
    """Units accepted per SKU never exceed what came into the web store's locations, less what
    left them for anyone but web store orders."""
    setup = setup_of(history)
    where = set(setup.get("webstore_locations") or ())
    web_ids = {o.id for o in end.orders if o.channel == setup.get("webstore")} | set(
        web_orders(history)
    )
    web_refs = {f"order:{order_id}" for order_id in web_ids}
    cancelled = tried(history, "cancel")
    wanted: Counter[str] = Counter()
    for order_id, op in web_orders(history).items():
        if order_id not in cancelled:
            for sku, quantity in op["request"]["lines"]:
                wanted[sku] += int(quantity)
    supply: Counter[str] = Counter()
    for m in end.movements:
        if m.location in where and (m.on_hand_delta > 0 or m.reference not in web_refs):
            supply[m.sku] += m.on_hand_delta
    return [
        Violation(
            "webstore_units_within_stock",
            f"SKU {sku}",
            f"{units} units accepted on the web store, {supply[sku]} were there",
            trail(history, sku=sku),
        )
        for sku, units in sorted(wanted.items())
        if units > supply[sku]
    ]


def reserved_within_on_hand(
    history: list[Record], end: EndState, window: float = LEDGER_WINDOW
) -> list[Violation]:
    """Replaying each level's ledger in order, reserved never exceeds on hand.

    Rows are stamped when their transaction starts, not when it commits, so rows less than
    `window` apart may have committed the other way round: a point is a violation only if no
    such reordering avoids it (every later row within the window that would help, applied).
    """
    found: list[Violation] = []
    levels: dict[tuple[str, str], list[Movement]] = defaultdict(list)
    for m in end.movements:
        levels[(m.sku, m.location)].append(m)
    epoch = epoch_of(history)
    for (sku, location), rows in sorted(levels.items()):
        rows.sort(key=lambda m: (m.at, m.id))
        point = _first_certain_overdraw(rows, window)
        if point is None:
            continue
        on_hand = sum(m.on_hand_delta for m in rows[: point + 1])
        reserved = sum(m.reserved_delta for m in rows[: point + 1])
        found.append(
            Violation(
                "reserved_within_on_hand",
                f"SKU {sku} at {location}",
                f"after ledger row {rows[point].id} reserved {reserved} > on hand {on_hand}",
                trail(
                    history,
                    sku=sku,
                    movements=rows[: point + 1],
                    until=rows[point].at - epoch,
                ),
            )
        )
    return found


def _first_certain_overdraw(rows: list[Movement], window: float) -> int | None:
    """The first index after which available < 0 however rows within `window` reorder."""
    available = 0
    ahead = 0  # the helping (positive) changes of rows after i within the window
    j = 0  # rows[i+1 : j] are within the window of rows[i]
    for i, row in enumerate(rows):
        available += row.on_hand_delta - row.reserved_delta
        if j <= i:
            j, ahead = i + 1, 0
        else:
            ahead -= max(0, row.on_hand_delta - row.reserved_delta)
        while j < len(rows) and rows[j].at <= row.at + window:
            ahead += max(0, rows[j].on_hand_delta - rows[j].reserved_delta)
            j += 1
        if available + ahead < 0:
            return i
    return None


def level_equals_ledger(history: list[Record], end: EndState) -> list[Violation]:
    """Every level equals the sum of its movements (and no movements lack a level)."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for m in end.movements:
        sums[(m.sku, m.location)][0] += m.on_hand_delta
        sums[(m.sku, m.location)][1] += m.reserved_delta
    found: list[Violation] = []
    seen = set()
    for level in end.levels:
        slot = (level.sku, level.location)
        seen.add(slot)
        on_hand, reserved = sums.get(slot, [0, 0])
        if (level.on_hand, level.reserved) != (on_hand, reserved):
            found.append(
                Violation(
                    "level_equals_ledger",
                    f"SKU {level.sku} at {level.location}",
                    f"level on hand {level.on_hand} reserved {level.reserved}, "
                    f"ledger {on_hand} / {reserved}",
                    trail(history, sku=level.sku),
                )
            )
    for (sku, location), (on_hand, reserved) in sorted(sums.items()):
        if (sku, location) not in seen and (on_hand or reserved):
            found.append(
                Violation(
                    "level_equals_ledger",
                    f"SKU {sku} at {location}",
                    f"no level, ledger {on_hand} / {reserved}",
                    trail(history, sku=sku),
                )
            )
    return found


def channels_of(history: list[Record]) -> dict[str, str]:
    """Every marketplace channel of the run: kind -> channel id (a run recorded before the
    other marketplaces joined had the shop alone)."""
    setup = setup_of(history)
    return dict(setup.get("channels") or {"shopify": setup.get("shopify")})


def marketplace_order_once(history: list[Record], end: EndState) -> list[Violation]:
    """Every order created on a marketplace is one Nexo order: none missing, none twice, none
    made up."""
    found: list[Violation] = []
    for kind, channel in channels_of(history).items():
        held = end.shop_orders if kind == "shopify" else end.marketplace_orders.get(kind, [])
        on_market = set(held) | {
            r["external"]
            for r in accepted(history, "shop_order")
            if r.get("external") and r.get("channel", "shopify") == kind
        }
        taken = Counter(o.external_id for o in end.orders if o.channel == channel)
        for external in sorted(on_market | set(taken)):
            problem = _taken_wrong(taken.get(external, 0), external in on_market)
            if problem:
                found.append(
                    Violation(
                        "marketplace_order_once",
                        f"{_named(kind, 'shop')} order {external}",
                        problem.format(market=_named(kind, "the shop")),
                        trail(history, external=external),
                    )
                )
    return found


def _named(kind: str, shop: str) -> str:
    """How a marketplace is named in a violation (the shop keeps the words it always had)."""
    return shop if kind == "shopify" else kind


def _taken_wrong(count: int, on_market: bool) -> str | None:
    if count == 0:
        return "created on {market}, never taken by Nexo"
    if count > 1:
        return f"taken {count} times"
    return None if on_market else "taken by Nexo, unknown to {market}"


def accepted_not_lost(history: list[Record], end: EndState) -> list[Violation]:
    """What was accepted is there: its ledger rows, its order, its cancellation, its shipment
    (and its marketplace told of it), its return; no outbound update given up."""
    found: list[Violation] = []
    keys = Counter(m.key for m in end.movements if m.key)
    orders = _by_id(end)
    shipments = set(end.shipments)

    def lost(
        subject: str,
        message: str,
        sku: str | None = None,
        order: str | None = None,
        external: str | None = None,
    ) -> None:
        shown = trail(history, sku=sku, order=order, external=external)
        found.append(Violation("accepted_not_lost", subject, message, shown))

    for op in accepted(history, "receive", "adjust", "count", "transfer"):
        if keys[op["key"]] < (2 if op["kind"] == "transfer" else 1):
            lost(f"{op['kind']} {op['key']}", "accepted, no ledger row", sku=op["skus"][0])
    for op in accepted(history, "place_order", "cancel", "ship", "return"):
        order = orders.get(op["order"])
        if order is None:
            lost(f"order {op['order']}", f"{op['kind']} accepted, no such order", order=op["order"])
            continue
        problem = _lost_effect(op, order, shipments, end)
        if problem:
            lost(f"order {order.id}", problem, order=order.id, external=order.external_id)
    for kind, key, why in end.dead_outbox:
        found.append(
            Violation(
                "accepted_not_lost",
                f"outbound {kind} {key}",
                f"given up (dead): {why}",
                trail(history, sku=key) if kind == "quantity" else (),
            )
        )
    return found


def _lost_effect(
    op: Record, order: Order, shipments: set[tuple[str, str]], end: EndState
) -> str | None:
    if op["kind"] == "cancel" and order.status != "cancelled" and _unshipped_left(order):
        # A partly shipped order keeps its shipped lines: only a line left to ship is lost.
        return f"cancelOrder accepted, the order is {order.status}"
    if op["kind"] == "ship":
        tracking = op["request"]["tracking"]
        if (order.id, tracking) not in shipments:
            return f"createShipment {tracking} accepted, no such shipment"
        kind = op.get("channel") or "shopify"
        told = end.shop_fulfilled if kind == "shopify" else end.marketplace_fulfilled.get(kind)
        # (A run recorded before the other marketplaces joined read no tracking from them.)
        if op.get("external") and told is not None and tracking not in told.get(op["external"], []):
            return f"shipment {tracking} never reached {_named(kind, 'the shop')}"
    if op["kind"] == "return":
        lines = {line.id: line for line in order.lines}
        kept = [i for i in op["request"]["lines"] if lines.get(i) and lines[i].status != "returned"]
        if kept:
            return f"returnOrderLines accepted, lines {kept} are not returned"
    return None


def channel_converges(history: list[Record], end: EndState, within: float) -> list[Violation]:
    """Once the load and the faults are over, every marketplace shows the hub's figure for
    every SKU within `within` seconds (compared on the harness's samples of both)."""
    over = max(
        (float(r["t"]) for r in history if r.get("type") == "phase" and r["name"] == "load_end"),
        default=None,
    )
    found: list[Violation] = []
    for kind in channels_of(history):
        samples = [
            r for r in history if r.get("type") == "sample" and r.get("channel", "shopify") == kind
        ]
        if over is None or not samples:
            found.append(Violation("channel_converges", kind, "no samples after the load ended"))
            continue
        in_time = [s for s in samples if over <= float(s["t"]) <= over + within]
        if not any(_agree(s) for s in in_time):
            last = (in_time or samples)[-1]
            held = _held_by_cap(history, end, kind, last)
            found += _diverged(history, end, kind, last, samples, within, held)
    return found


def _held_by_cap(history: list[Record], end: EndState, kind: str, last: Record) -> set[str]:
    """SKUs whose figure the channel's own cap holds back (CAPPED): Nexo has it waiting to
    go out no later than the floor after the last sample."""
    floor = CAPPED.get(kind)
    if floor is None:
        return set()
    channel = channels_of(history).get(kind)
    latest = epoch_of(history) + float(last["t"]) + floor
    return {
        row[1]
        for row in end.outbox
        if len(row) > 6
        and row[0] == "quantity"
        and row[5] == channel
        and row[2] != "dead"
        and float(row[6]) <= latest
    }


def held_back(history: list[Record], end: EndState) -> dict[str, list[str]]:
    """Per capped channel, the SKUs it did not show at the end because its cap held them."""
    found: dict[str, list[str]] = {}
    for kind in CAPPED:
        samples = [r for r in history if r.get("type") == "sample" and r.get("channel") == kind]
        if samples:
            last = samples[-1]
            apart = {sku for sku, q in last["hub"].items() if last["shop"].get(sku) != q}
            found[kind] = sorted(apart & _held_by_cap(history, end, kind, last))
    return found


def _diverged(
    history: list[Record],
    end: EndState,
    kind: str,
    last: Record,
    samples: list[Record],
    within: float,
    held: set[str],
) -> list[Violation]:
    return [
        Violation(
            "channel_converges",
            f"SKU {sku}" if kind == "shopify" else f"{kind} SKU {sku}",
            f"{within:.0f} s after the load: the hub offers {_named(kind, 'the shop')} "
            f"{last['hub'].get(sku)}, {_named(kind, 'the shop')} shows {last['shop'].get(sku)}",
            trail(
                history,
                sku=sku,
                movements=_movements_of(end, sku)[-10:],
                extra=_sample_lines(samples[-5:], sku) + _sync_lines(history, end, sku),
            ),
        )
        for sku in sorted(last["hub"])
        if last["hub"].get(sku) != last["shop"].get(sku) and sku not in held
    ]


def _sample_lines(samples: list[Record], sku: str) -> list[tuple[float, str]]:
    return [
        (
            at,
            f"+{at:8.3f}s sample: hub {s['hub'].get(sku)}, "
            f"{_named(s.get('channel', 'shopify'), 'shop')} {s['shop'].get(sku)}",
        )
        for s in samples
        for at in [float(s["t"])]
    ]


def _sync_lines(history: list[Record], end: EndState, sku: str) -> list[tuple[float, str]]:
    """The last calls that carried the SKU, and what still waits for it, at the end."""
    epoch = epoch_of(history)
    calls = [c for c in end.sync_calls if sku in c[2]][-5:]
    lines = [
        (
            float(c[0]) - epoch,
            f"+{float(c[0]) - epoch:8.3f}s sync {c[1]} {c[3]}" + (f" ({c[4]})" if c[4] else ""),
        )
        for c in calls
    ]
    last = float("inf")  # shown after everything else
    lines += [(last, f"{'':10} at the end: outbox {row}") for row in end.outbox if row[1] == sku]
    lines += [(last, f"{'':10} at the end: inbox {row}") for row in end.inbox_open if row[1] == sku]
    return lines


def _agree(sample: Record) -> bool:
    return all(sample["shop"].get(sku) == q for sku, q in sample["hub"].items())


def no_phantom_edit(history: list[Record], end: EndState) -> list[Violation]:
    """A channel edit on the hub's ledger needs an edit made on the shop: Nexo's own pushes
    echoed back, or a sale's own stock update, are not edits."""
    edited = {sku for r in ops(history, "shop_edit") for sku in r.get("skus") or ()}
    epoch = epoch_of(history)
    phantom: dict[str, list[Movement]] = defaultdict(list)
    for m in sorted(end.movements, key=lambda m: (m.at, m.id)):
        if m.reason == "channel_edit" and m.sku not in edited:
            phantom[m.sku].append(m)
    return [
        Violation(
            "no_phantom_edit",
            f"SKU {sku}",
            f"{len(rows)} channel edits ({sum(m.on_hand_delta for m in rows):+d} on hand) "
            "while nobody edited the shop",
            trail(history, sku=sku, movements=rows, until=rows[-1].at - epoch),
        )
        for sku, rows in sorted(phantom.items())
    ]


def check(
    history: list[Record],
    end: EndState,
    *,
    converge_within: float,
    ledger_window: float = LEDGER_WINDOW,
) -> list[Violation]:
    """Every rule, in RULES order."""
    rules: list[Callable[[list[Record], EndState], Iterable[Violation]]] = [
        webstore_order_held,
        webstore_units_within_stock,
        lambda h, e: reserved_within_on_hand(h, e, ledger_window),
        level_equals_ledger,
        marketplace_order_once,
        accepted_not_lost,
        lambda h, e: channel_converges(h, e, converge_within),
        no_phantom_edit,
    ]
    return [violation for rule in rules for violation in rule(history, end)]


def by_rule(violations: list[Violation]) -> dict[str, int]:
    counts = dict.fromkeys(RULES, 0)
    for violation in violations:
        counts[violation.rule] += 1
    return counts


def _unshipped_left(order: Order) -> bool:
    """Whether a line of the order still waits to ship (not shipped, returned or cancelled)."""
    return any(line.status not in ("shipped", "returned", "cancelled") for line in order.lines)
