"""The reservation desk: concurrent single reservations held together, in one transaction.

Each call must get what `reservations.reserve` would give it (the reservation, the ledger
row, the key's claim, the errors), and a batch must change each level once. The calls of
one `asyncio.gather` all join one batch: they submit before the batch's run starts.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from adapters.container import Container
from adapters.desks.reservations import ReservationDesk
from domain.errors import IdempotencyKeyReused, InsufficientStock, InvalidQuantity, NotFound
from domain.inventory import hold_requests, reservations
from domain.inventory.events import ALERT_TOPIC, STOCK_TOPIC
from domain.inventory.model import MovementReason, ReservationStatus
from domain.inventory.queries import audit
from domain.inventory.setup import create_inventory_item
from tests.integration.inventory.conftest import Stockroom, receive

SKU = "TSHIRT-M"
postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def _level(container: Container, sku: str, location_id: uuid.UUID) -> tuple[int, int, int]:
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(sku)
    assert snapshot is not None
    level = snapshot.level_at(location_id)
    assert level is not None
    return level.on_hand, level.reserved, level.version


async def _assert_audit_clean(container: Container) -> None:
    async with container.uow(readonly=True) as uow:
        report = await audit(uow)
    assert report.clean, report


async def test_calls_that_arrive_together_are_held_in_one_batch_as_reserve_would_hold_them(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await receive(container, SKU, wh, 50)
    async with container.uow() as uow:
        await create_inventory_item(uow, sku="CAP")
        await uow.commit()
    await receive(container, "CAP", wh, 50)
    before = await _level(container, SKU, wh)
    desk = ReservationDesk(container.uow)

    results = await asyncio.gather(
        *(
            desk.reserve(
                sku=SKU if i % 3 else "CAP",
                quantity=1 + i % 2,
                key=f"k-{i}",
                actor=f"api-key-{i % 2}",
                location_id=wh,
                reference=f"cart-{i}",
                expires_in_seconds=600 if i % 4 == 0 else None,
            )
            for i in range(12)
        )
    )

    assert desk.batches == 1
    assert not any(r.replayed for r in results)
    wanted = sum(1 + i % 2 for i in range(12) if i % 3)
    on_hand, reserved, version = await _level(container, SKU, wh)
    # One change of the level for the whole batch: one version step.
    assert (on_hand, reserved, version) == (50, wanted, before[2] + 1)
    async with container.uow(readonly=True) as uow:
        for i, result in enumerate(results):
            held = result.reservation
            assert (held.sku, held.quantity, held.location_id) == (
                SKU if i % 3 else "CAP",
                1 + i % 2,
                wh,
            )
            assert held.reference == f"cart-{i}"
            assert held.status is ReservationStatus.ACTIVE
            assert (held.expires_at is not None) == (i % 4 == 0)
            stored = await uow.inventory.get_reservation(held.id)
            assert stored == held
            claim = await uow.operations.get(f"k-{i}")
            assert claim is not None
            assert claim.kind == "reserve"
            assert claim.actor == f"api-key-{i % 2}"
            assert claim.result == {"reservationId": str(held.id)}
        movements = await uow.inventory.list_movements(SKU, first=100, after=None)
    reserve_rows = [m for m in movements if m.reason is MovementReason.RESERVE]
    assert len(reserve_rows) == 8
    for row in reserve_rows:
        i = int((row.operation_key or "").removeprefix("k-"))
        assert row.reservation_id == results[i].reservation.id
        assert (row.reserved_delta, row.on_hand_delta) == (1 + i % 2, 0)
        assert row.actor == f"api-key-{i % 2}"
    await _assert_audit_clean(container)

    # A replay through the one-by-one path finds each call's claim: same input, same
    # reservation, nothing more held; other input under the key is refused.
    replay = await reservations.reserve(
        container.uow,
        sku=SKU,
        quantity=2,
        key="k-1",
        actor="api-key-1",
        location_id=wh,
        reference="cart-1",
    )
    assert replay.replayed
    assert replay.reservation.id == results[1].reservation.id
    with pytest.raises(IdempotencyKeyReused):
        await reservations.reserve(
            container.uow, sku=SKU, quantity=1, key="k-1", actor="t", location_id=wh
        )
    assert (await _level(container, SKU, wh))[1] == wanted


async def test_what_a_batch_cannot_hold_gets_the_answer_reserve_gives(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await receive(container, SKU, wh, 3)
    await reservations.reserve(
        container.uow, sku=SKU, quantity=1, key="earlier", actor="t", location_id=wh
    )
    desk = ReservationDesk(container.uow)

    calls = [
        desk.reserve(sku=SKU, quantity=2, key="fits", actor="t", location_id=wh),
        desk.reserve(sku=SKU, quantity=1, key="too-many", actor="t", location_id=wh),
        desk.reserve(sku=SKU, quantity=1, key="no-level", actor="t", location_id=st),
        desk.reserve(sku="NOPE", quantity=1, key="unknown-sku", actor="t", location_id=wh),
        desk.reserve(sku=SKU, quantity=1, key="unknown-loc", actor="t", location_id=uuid.uuid4()),
        # The key of an earlier reservation with its input: a replay of it.
        desk.reserve(sku=SKU, quantity=1, key="earlier", actor="t", location_id=wh),
        # The key of a call before it in this batch, other input: a reuse.
        desk.reserve(sku=SKU, quantity=1, key="fits", actor="t", location_id=wh),
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    fits, too_many, no_level, unknown_sku, unknown_loc, earlier, reused = outcomes
    assert not isinstance(fits, BaseException)
    assert fits.reservation.quantity == 2
    assert not fits.replayed
    assert isinstance(too_many, InsufficientStock)
    assert isinstance(no_level, InsufficientStock)
    assert isinstance(unknown_sku, NotFound)
    assert unknown_sku.field == "sku"
    assert isinstance(unknown_loc, NotFound)
    assert unknown_loc.field == "locationId"
    assert not isinstance(earlier, BaseException)
    assert earlier.replayed
    assert isinstance(reused, IdempotencyKeyReused)
    assert (await _level(container, SKU, wh))[:2] == (3, 3)
    async with container.uow(readonly=True) as uow:
        for key in ("too-many", "no-level", "unknown-sku", "unknown-loc"):
            assert await uow.operations.get(key) is None  # a refusal claims nothing
    await _assert_audit_clean(container)

    with pytest.raises(InvalidQuantity):
        await desk.reserve(sku=SKU, quantity=0, key="zero", actor="t", location_id=wh)


async def test_without_a_location_each_call_takes_the_first_location_that_has_it_left(
    container: Container, stockroom: Stockroom
) -> None:
    # Locations are tried by code: ST1 (the store) before WH1 (the warehouse).
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await receive(container, SKU, st, 3)
    await receive(container, SKU, wh, 5)
    desk = ReservationDesk(container.uow)

    outcomes = await asyncio.gather(
        *(desk.reserve(sku=SKU, quantity=2, key=f"k-{i}", actor="t") for i in range(4)),
        return_exceptions=True,
    )

    # As one after another: 2 from the store leave 1 there, so the next two come from the
    # warehouse, which leaves 1; the fourth finds 2 nowhere.
    *held, fourth = outcomes
    places = [r.reservation.location_id for r in held if not isinstance(r, BaseException)]
    assert places == [st, wh, wh]
    assert isinstance(fourth, InsufficientStock)
    assert (await _level(container, SKU, st))[:2] == (3, 2)
    assert (await _level(container, SKU, wh))[:2] == (5, 4)


async def _read(subscription: Any, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        async for message in subscription:
            received.append(dict(message))
            if len(received) == count:
                break
    return received


async def test_a_batch_tells_each_level_once_and_alerts_once_per_crossing(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await receive(container, SKU, wh, 10)  # threshold 3
    desk = ReservationDesk(container.uow)
    bus = container.bus
    async with bus.subscribe(STOCK_TOPIC) as changes, bus.subscribe(ALERT_TOPIC) as alerts:
        await bus.wait_subscribed(STOCK_TOPIC)
        await asyncio.gather(
            *(
                desk.reserve(sku=SKU, quantity=1, key=f"k-{i}", actor="t", location_id=wh)
                for i in range(8)
            )
        )
        # Then the last two units, one by one: the batch's events come first, in order.
        for key in ("after-1", "after-2"):
            await reservations.reserve(
                container.uow, sku=SKU, quantity=1, key=key, actor="t", location_id=wh
            )
        stock_events = await _read(changes, 3)
        alert_events = await _read(alerts, 2)
    batch, after_1, after_2 = stock_events
    assert (batch["reserved"], batch["available"]) == (8, 2)
    assert (after_1["available"], after_2["available"]) == (1, 0)
    assert [after_1["version"], after_2["version"]] == [batch["version"] + 1, batch["version"] + 2]
    # 10 -> 2 in one batch crosses to low stock once; 1 -> 0 runs out.
    assert [(a["kind"], a["available"]) for a in alert_events] == [
        ("LOW_STOCK", 2),
        ("OUT_OF_STOCK", 0),
    ]


@postgres_only
async def test_two_desks_on_one_hot_sku_never_take_more_than_there_is(
    container: Container, stockroom: Stockroom
) -> None:
    """Two API processes, each with its desk, racing for the last units of one SKU."""
    wh = stockroom.warehouse.id
    await receive(container, SKU, wh, 25)
    desks = [ReservationDesk(container.uow), ReservationDesk(container.uow)]

    outcomes = await asyncio.gather(
        *(
            desks[i % 2].reserve(sku=SKU, quantity=1, key=f"k-{i}", actor="t", location_id=wh)
            for i in range(120)
        ),
        return_exceptions=True,
    )

    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, InsufficientStock) for o in lost), lost
    assert (len(won), len(lost)) == (25, 95)
    assert (await _level(container, SKU, wh))[:2] == (25, 25)
    async with container.uow(readonly=True) as uow:
        active = await uow.inventory.list_reservations(
            sku=SKU, status=ReservationStatus.ACTIVE, reference=None, first=1000, after=None
        )
    assert {r.id for r in active} == {w.reservation.id for w in won}
    await _assert_audit_clean(container)


@postgres_only
async def test_desks_and_one_by_one_reservations_on_many_skus_do_not_deadlock(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    skus = [f"SKU-{n}" for n in range(6)]
    async with container.uow() as uow:
        for sku in skus:
            await create_inventory_item(uow, sku=sku)
        await uow.commit()
    for sku in skus:
        await receive(container, sku, wh, 40)
        await receive(container, sku, st, 40)
    desks = [ReservationDesk(container.uow), ReservationDesk(container.uow)]

    async def one(i: int) -> Any:
        sku = skus[(i * 7) % len(skus)]
        if i % 5 == 0:
            return await reservations.reserve(
                container.uow, sku=sku, quantity=1, key=f"k-{i}", actor="t"
            )
        return await desks[i % 2].reserve(sku=sku, quantity=1, key=f"k-{i}", actor="t")

    outcomes = await asyncio.gather(*(one(i) for i in range(300)), return_exceptions=True)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    async with container.uow(readonly=True) as uow:
        reserved = 0
        for sku in skus:
            snapshot = await uow.inventory.snapshot(sku)
            assert snapshot is not None
            reserved += sum(e.level.reserved for e in snapshot.levels)
    assert reserved == 300
    await _assert_audit_clean(container)


# Carts (checkoutReserve): every line or none --------------------------------------------------


async def test_carts_that_arrive_together_are_held_in_one_batch_as_reserve_lines_would(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await receive(container, SKU, wh, 10)
    async with container.uow() as uow:
        await create_inventory_item(uow, sku="CAP")
        await uow.commit()
    await receive(container, "CAP", wh, 2)
    desk = ReservationDesk(container.uow)
    carts = [
        [hold_requests.LineRequest(SKU, 2, wh), hold_requests.LineRequest("CAP", 1, wh)],
        [hold_requests.LineRequest(SKU, 3, wh)],
        [hold_requests.LineRequest("CAP", 1, wh), hold_requests.LineRequest(SKU, 1, wh)],
        # CAP is gone by now: this cart holds nothing, and says which line is short.
        [hold_requests.LineRequest(SKU, 1, wh), hold_requests.LineRequest("CAP", 1, wh)],
    ]

    results = await asyncio.gather(
        *(
            desk.reserve_cart(
                lines=lines, key=f"cart-{n}", actor="shop", reference=f"cart:{n}",
                expires_in_seconds=900,
            )
            for n, lines in enumerate(carts)
        ),
        return_exceptions=True,
    )  # fmt: skip

    assert desk.batches == 1
    held, short = results[:3], results[3]
    assert isinstance(short, InsufficientStock)
    assert short.field == "lines[1]"
    assert (await _level(container, SKU, wh))[:2] == (10, 6)
    assert (await _level(container, "CAP", wh))[:2] == (2, 2)
    async with container.uow(readonly=True) as uow:
        for n, result in enumerate(held):
            assert isinstance(result, reservations.LinesResult)
            assert not result.replayed
            got = [line.reservation for line in result.lines]
            assert [(r.sku, r.quantity, r.location_id) for r in got if r] == [
                (line.sku, line.quantity, wh) for line in carts[n]
            ]
            assert all(r and r.reference == f"cart:{n}" and r.expires_at for r in got)
            claim = await uow.operations.get(f"cart-{n}")
            assert claim is not None
            assert claim.kind == hold_requests.LINES_KIND
            assert claim.result == {"lines": [{"reservationId": str(r.id)} for r in got if r]}
        assert await uow.operations.get("cart-3") is None  # refused whole: nothing claimed
    await _assert_audit_clean(container)

    # The one-call path replays a cart the desk held: same reservations, nothing more held.
    replay = await reservations.reserve_lines(
        container.uow, lines=carts[0], mode=hold_requests.LineMode.ALL_OR_NOTHING,
        key="cart-0", actor="shop", reference="cart:0", expires_in_seconds=900,
    )  # fmt: skip
    assert replay.replayed
    first = results[0]
    assert isinstance(first, reservations.LinesResult)
    assert [ln.reservation for ln in replay.lines] == [ln.reservation for ln in first.lines]
    with pytest.raises(IdempotencyKeyReused):
        await reservations.reserve_lines(
            container.uow, lines=carts[1], mode=hold_requests.LineMode.ALL_OR_NOTHING,
            key="cart-0", actor="shop", reference="cart:0", expires_in_seconds=900,
        )  # fmt: skip
    assert (await _level(container, SKU, wh))[:2] == (10, 6)


@postgres_only
async def test_two_desks_holding_carts_of_the_last_units_never_take_more_than_there_is(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await receive(container, SKU, wh, 25)
    desks = [ReservationDesk(container.uow), ReservationDesk(container.uow)]

    async def cart(n: int) -> bool:
        try:
            await desks[n % 2].reserve_cart(
                lines=[hold_requests.LineRequest(SKU, 1 + n % 2, wh)], key=f"c-{n}", actor="t",
                reference=f"cart:{n}", expires_in_seconds=900,
            )  # fmt: skip
        except InsufficientStock:
            return False
        return True

    held = await asyncio.gather(*(cart(n) for n in range(60)))

    units = sum(1 + n % 2 for n, ok in enumerate(held) if ok)
    assert units <= 25
    assert (await _level(container, SKU, wh))[:2] == (25, units)
    assert units >= 24  # refused only when what is left cannot cover the cart
    assert sum(d.batches for d in desks) >= 2
    await _assert_audit_clean(container)
