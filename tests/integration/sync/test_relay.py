"""The relay against the Shopify sandbox: publish, push, coalesce, retry, dead-letter."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.tables import alerts, outbox
from domain.catalog import channel_settings, products
from domain.catalog.model import ProductOption, ProductSpec, VariantSpec
from domain.channels.listing import ListingStatus
from domain.channels.policies import StockEditPolicy
from domain.inventory import stock
from domain.inventory.alerts import AlertKind
from domain.money import Money
from domain.sync.model import CallOutcome
from domain.sync.reconcile import reconcile_channel
from domain.sync.relay import MAX_ATTEMPTS, Relay
from domain.sync.stock_edits import set_stock_edit_policy
from tests.integration.sync.shop import SHOP_LOCATION, SKUS, Shop

pytestmark = pytest.mark.usefixtures("backend")


async def receive(shop: Shop, sku: str, quantity: int, key: str) -> None:
    await stock.receive(
        shop.container.uow, sku=sku, location_id=shop.location_id, quantity=quantity,
        key=key, actor="test",
    )  # fmt: skip


async def log(shop: Shop) -> list[tuple[str, CallOutcome, tuple[str, ...]]]:
    async with shop.container.uow(readonly=True) as uow:
        calls = await uow.sync_log.page(
            channel_id=shop.channel_id, outcome=None, first=100, after=None
        )
    return [(c.operation, c.outcome, c.keys) for c in reversed(calls)]


async def outbox_rows(shop: Shop) -> list[tuple[str, str, str, int]]:
    async with shop.container.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.kind, outbox.c.key, outbox.c.status, outbox.c.attempts)
        )
        return sorted((r.kind, r.key, r.status, r.attempts) for r in rows)


async def create_sizes(shop: Shop, handle: str, prefix: str, sizes: tuple[str, ...]) -> None:
    """A product (listed on the shop by the rule) with a variant `PREFIX-SIZE` per size."""
    spec = ProductSpec(
        handle=handle, title=handle.title(), options=(ProductOption("Size", sizes),),
        variants=tuple(VariantSpec(f"{prefix}-{s}", (s,), Money(900, "USD")) for s in sizes),
    )  # fmt: skip
    async with shop.container.uow() as uow:
        await products.create_product(uow, spec, shop.container.listing_formats, now=shop.clock())
        await uow.commit()


async def listing_of(shop: Shop):  # type: ignore[no-untyped-def]
    async with shop.container.uow(readonly=True) as uow:
        [listing] = await uow.listings.for_products([shop.product_id])
    return listing


async def test_a_new_product_is_published_with_its_ids_and_quantities(shop: Shop) -> None:
    await receive(shop, "TEE-M", 7, "r1")

    assert await shop.drain() >= 2  # the listing, then the quantities it now has ids for

    product = shop.sandbox.product_by_handle("tee")
    assert product is not None
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 7
    assert shop.sandbox.inventory_quantity("TEE-S", SHOP_LOCATION) == 0
    listing = await listing_of(shop)
    assert listing.status is ListingStatus.ACTIVE
    assert listing.external_id is not None
    assert listing.external_id.startswith("gid://shopify/Product/")
    assert listing.confirmed_content_hash == listing.content_hash
    items = {i.sku: i for i in listing.items}
    assert items["TEE-M"].confirmed_quantity == 7
    assert set(items["TEE-M"].refs) >= {"variant_id", "inventory_item_id"}
    operations = [(op, outcome) for op, outcome, _ in await log(shop)]
    assert operations == [("upsert_listing", CallOutcome.OK), ("push_quantities", CallOutcome.OK)]
    assert await outbox_rows(shop) == []


async def test_a_burst_of_changes_to_one_sku_is_one_call(shop: Shop) -> None:
    await shop.drain()
    before = len(shop.calls("inventorySetQuantities"))

    for n in range(100):
        await receive(shop, "TEE-S", 1, f"burst-{n}")
    assert await outbox_rows(shop) == [("quantity", "TEE-S", "pending", 0)]
    await shop.drain()

    assert len(shop.calls("inventorySetQuantities")) == before + 1
    assert shop.sandbox.inventory_quantity("TEE-S", SHOP_LOCATION) == 100


async def test_a_failing_channel_is_retried_with_backoff_until_it_confirms(shop: Shop) -> None:
    await shop.drain()
    shop.sandbox.faults.fail_next(1, 503)
    await receive(shop, "TEE-L", 4, "r1")

    await shop.drain()
    assert shop.sandbox.inventory_quantity("TEE-L", SHOP_LOCATION) == 0
    [(kind, key, status, attempts)] = await outbox_rows(shop)
    assert (kind, key, status, attempts) == ("quantity", "TEE-L", "retry", 1)
    assert (await log(shop))[-1][:2] == ("push_quantities", CallOutcome.FAILED)
    assert await shop.drain() == 0  # not due yet: backoff

    shop.clock.advance(60)
    await shop.drain()
    assert shop.sandbox.inventory_quantity("TEE-L", SHOP_LOCATION) == 4
    assert await outbox_rows(shop) == []


async def test_a_confirmed_push_settles_the_keys_older_marks_waiting_for_a_retry(
    shop: Shop,
) -> None:
    """A busy key's older row would otherwise be retried later, and gather the failures of
    later episodes until it is buried, though the key has been sent since."""
    await shop.drain()
    shop.sandbox.faults.fail_next(1, 503)
    await receive(shop, "TEE-L", 4, "r1")
    await shop.drain()
    assert await outbox_rows(shop) == [("quantity", "TEE-L", "retry", 1)]

    await receive(shop, "TEE-L", 1, "r2")  # a new mark, due at once
    await shop.drain()

    assert shop.sandbox.inventory_quantity("TEE-L", SHOP_LOCATION) == 5
    assert await outbox_rows(shop) == []


async def test_a_throttled_call_waits_and_is_sent_again(shop: Shop) -> None:
    await shop.drain()
    shop.sandbox.faults.throttle_next(1)
    await receive(shop, "TEE-L", 2, "r1")

    await shop.drain()
    shop.clock.advance(60)  # Shopify's own wait is short; the relay honours it either way
    await shop.drain()

    pushes = [(outcome, keys) for op, outcome, keys in await log(shop) if op == "push_quantities"]
    assert pushes[-2:] == [(CallOutcome.THROTTLED, ("TEE-L",)), (CallOutcome.OK, ("TEE-L",))]
    assert shop.sandbox.inventory_quantity("TEE-L", SHOP_LOCATION) == 2


async def test_throttles_take_none_of_an_updates_attempts(shop: Shop) -> None:
    """Found by the fault harness: a minute's outage took most of a shipment's attempts, and
    the throttling of the traffic that followed the rest: it was dead-lettered, never sent.
    Throttles are the channel asking to wait: an update fails for good only by failures."""
    await shop.drain()
    shop.sandbox.faults.fail_next(MAX_ATTEMPTS - 1, 503)
    await receive(shop, "TEE-S", 3, "r1")
    for _ in range(MAX_ATTEMPTS - 1):
        await shop.drain()
        shop.clock.advance(400)  # past the longest backoff
    assert await outbox_rows(shop) == [("quantity", "TEE-S", "retry", MAX_ATTEMPTS - 1)]

    shop.sandbox.faults.throttle_next(5)  # more throttles than the one attempt left
    for _ in range(20):
        if not await outbox_rows(shop):
            break
        await shop.drain()
        shop.clock.advance(60)

    assert await outbox_rows(shop) == []
    assert shop.sandbox.inventory_quantity("TEE-S", SHOP_LOCATION) == 3
    pushes = [outcome for op, outcome, _ in await log(shop) if op == "push_quantities"]
    assert pushes.count(CallOutcome.THROTTLED) >= 2
    assert CallOutcome.DEAD not in pushes
    assert pushes[-1] == CallOutcome.OK


async def test_after_the_retry_budget_an_update_is_dead_lettered_and_alerted(shop: Shop) -> None:
    await shop.drain()
    shop.sandbox.faults.fail_next(1000, 500)
    await receive(shop, "TEE-S", 3, "r1")

    for _ in range(MAX_ATTEMPTS):
        await shop.drain()
        shop.clock.advance(400)  # past the longest backoff

    assert await outbox_rows(shop) == [("quantity", "TEE-S", "dead", MAX_ATTEMPTS)]
    assert (await log(shop))[-1][:2] == ("push_quantities", CallOutcome.DEAD)
    async with shop.container.engine.connect() as conn:
        raised = (
            await conn.execute(
                select(alerts.c.kind, alerts.c.channel_id, alerts.c.message).where(
                    alerts.c.kind == AlertKind.SYNC_FAILED.value
                )
            )
        ).all()
    assert len(raised) == 1
    assert raised[0].channel_id == shop.channel_id
    assert "TEE-S" in raised[0].message


async def test_a_listing_the_channel_refuses_goes_to_error_with_its_message(shop: Shop) -> None:
    # A location the shop does not have: Shopify answers with a userError, not a failure.
    async with shop.container.uow() as uow:
        config = await uow.channel_configs.get(shop.channel_id)
        assert config is not None
        rule = replace(config.listing_rule, settings={"locationId": "gid://shopify/Location/999"})
        await uow.channel_configs.save(replace(config, listing_rule=rule))
        await uow.commit()

    await shop.drain()

    listing = await listing_of(shop)
    assert listing.status is ListingStatus.ERROR
    assert [p.code for p in listing.problems] == ["CHANNEL_REJECTED"]
    assert listing.problems[0].message
    assert (await log(shop))[0][:2] == ("upsert_listing", CallOutcome.REJECTED)
    assert await outbox_rows(shop) == []  # a refusal is not retried


async def test_with_sync_off_nothing_is_sent_and_switching_it_on_sends_everything(
    shop: Shop,
) -> None:
    async with shop.container.uow() as uow:
        await channel_settings.set_sync_enabled(uow, shop.channel_id, False, now=shop.clock())
        await uow.commit()
    await receive(shop, "TEE-S", 5, "r1")

    await shop.drain()
    assert shop.sandbox.calls == []
    assert await outbox_rows(shop) == []

    async with shop.container.uow() as uow:
        await channel_settings.set_sync_enabled(uow, shop.channel_id, True, now=shop.clock())
        await uow.commit()
    await shop.drain()
    assert shop.sandbox.product_by_handle("tee") is not None
    assert shop.sandbox.inventory_quantity("TEE-S", SHOP_LOCATION) == 5


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_relays_sharing_a_channel_never_take_the_same_row(shop: Shop) -> None:
    sizes = tuple(f"S{n:02d}" for n in range(60))
    await create_sizes(shop, "many", "MANY", sizes)
    await shop.drain()
    before = len(await log(shop))
    for size in sizes:
        await receive(shop, f"MANY-{size}", 2, f"r-{size}")

    small = replace(shop.relay, batch=5)

    async def relay() -> None:
        while await small.drain(shop.channel_id):
            pass

    await asyncio.gather(*(relay() for _ in range(4)))

    pushed = [
        key for op, _, keys in (await log(shop))[before:] if op == "push_quantities" for key in keys
    ]
    assert sorted(pushed) == sorted(f"MANY-{s}" for s in sizes)  # each row sent exactly once
    assert all(shop.sandbox.inventory_quantity(f"MANY-{s}", SHOP_LOCATION) == 2 for s in sizes)
    async with shop.container.engine.connect() as conn:
        left = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    assert left == 0


async def test_reconciliation_finds_drift_and_the_hub_number_wins(shop: Shop) -> None:
    await receive(shop, "TEE-M", 7, "r1")
    await shop.drain()
    await shop.sandbox.edit_inventory("TEE-M", SHOP_LOCATION, 42)  # edited in Shopify's admin

    report = await reconcile_channel(shop.relay, shop.channel_id)

    assert report.checked == 3
    assert [(d.sku, d.channel_quantity, d.hub_quantity) for d in report.drifts] == [
        ("TEE-M", 42, 7)
    ]
    assert await outbox_rows(shop) == [("quantity", "TEE-M", "pending", 0)]
    operation, outcome, keys = (await log(shop))[-1]
    assert (operation, outcome, keys) == ("reconcile", CallOutcome.OK, ("TEE-M",))
    await shop.drain()
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 7
    again = await reconcile_channel(shop.relay, shop.channel_id)
    assert again.drifts == []


async def test_reconciliation_imports_a_missed_edit_when_the_channel_edits_are_accepted(
    shop: Shop,
) -> None:
    async with shop.container.uow() as uow:
        await set_stock_edit_policy(
            uow, shop.channel_id, StockEditPolicy.ACCEPT_CHANNEL_EDITS, now=shop.clock()
        )
        await uow.commit()
    await receive(shop, "TEE-M", 7, "r1")
    await shop.drain()
    await shop.sandbox.edit_inventory("TEE-M", SHOP_LOCATION, 10)  # its webhook was lost

    report = await reconcile_channel(shop.relay, shop.channel_id)
    await shop.drain()

    assert [(d.sku, d.channel_quantity, d.hub_quantity) for d in report.drifts] == [
        ("TEE-M", 10, 7)
    ]
    async with shop.container.uow(readonly=True) as uow:
        item = await uow.inventory.get_item("TEE-M")
        movements = await uow.inventory.list_movements("TEE-M", first=10, after=None)
    assert item is not None
    assert item.available == 10  # the channel's +3 is now the hub's stock
    edits = [m.on_hand_delta for m in movements if m.reason.value == "channel_edit"]
    assert edits == [3]
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 10
    assert (await reconcile_channel(shop.relay, shop.channel_id)).drifts == []


class _Interposed:
    """A connector whose ports run `before_push` ahead of each quantity push (once)."""

    def __init__(self, inner: Any, before_push: Callable[[], Awaitable[None]]):
        self.inner = inner
        self.before_push: Callable[[], Awaitable[None]] | None = before_push

    def connect(self, channel: Any, config: Any, sealed: Any) -> Any:
        port = self.inner.connect(channel, config, sealed)
        outer = self

        class Port:
            def __getattr__(self, name: str) -> Any:
                return getattr(port, name)

            async def push_quantities(self, updates: Any) -> Any:
                hook, outer.before_push = outer.before_push, None
                if hook is not None:
                    await hook()
                return await port.push_quantities(updates)

        return Port()


async def test_a_lost_compare_and_set_sets_the_hubs_current_number_not_the_one_read_before(
    shop: Shop,
) -> None:
    await receive(shop, "TEE-M", 5, "r1")
    await shop.drain()
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 5
    await receive(shop, "TEE-M", 1, "r2")  # the hub says 6; the relay reads 6 ...

    async def meanwhile() -> None:
        # ... and while its call is out, the hub moves on to 9 and the shop's number moves
        # too (another writer): the relay's compare-and-set is lost.
        await receive(shop, "TEE-M", 3, "r3")
        await shop.sandbox.edit_inventory("TEE-M", SHOP_LOCATION, 4)

    relay = replace(shop.relay, connector=_Interposed(shop.relay.connector, meanwhile))
    await relay.drain(shop.channel_id)  # one batch: the row of r2 only

    # Set over the shop's 4 is the hub's current 9, not the 6 this run had read before.
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 9
    async with shop.container.uow(readonly=True) as uow:
        items = await uow.listings.items_on(shop.channel_id, ["TEE-M"])
    assert items["TEE-M"][1].confirmed_quantity == 9


async def test_a_run_goes_round_again_for_what_was_marked_during_its_call(shop: Shop) -> None:
    await receive(shop, "TEE-M", 5, "r1")
    await shop.drain()
    before = len(await log(shop))
    relay = shop.relay
    asked_again: list[int] = []

    async def meanwhile() -> None:
        # Changes made while the call is out, each asking for a run: that is one more round
        # of the run under way, with both SKUs in one call.
        await receive(shop, "TEE-S", 2, "r2")
        await receive(shop, "TEE-L", 3, "r3")
        asked_again.append((await relay.run(shop.channel_id)).claimed)

    interposed = _Interposed(shop.relay.connector, meanwhile)
    relay = replace(shop.relay, connector=interposed)
    await receive(shop, "TEE-M", 1, "r4")

    drained = await relay.run(shop.channel_id)

    assert asked_again == [0]  # the request joined the run under way
    assert drained.claimed == 3
    assert not drained.more
    pushes = [keys for op, _, keys in (await log(shop))[before:] if op == "push_quantities"]
    assert [sorted(keys) for keys in pushes] == [["TEE-M"], ["TEE-L", "TEE-S"]]
    assert [shop.sandbox.inventory_quantity(s, SHOP_LOCATION) for s in SKUS] == [2, 6, 3]
    assert await outbox_rows(shop) == []


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_relays_under_a_stream_of_changes_leave_the_shop_at_the_hubs_numbers(
    shop: Shop,
) -> None:
    sizes = tuple(f"S{n:02d}" for n in range(6))
    await create_sizes(shop, "many", "MANY", sizes)
    await shop.drain()
    relays = [replace(shop.relay) for _ in range(4)]  # four worker processes
    shop.sandbox.faults.latency_seconds = 0.01
    shop.sandbox.faults.latency_jitter_seconds = 0.05  # calls overtake one another
    writing = True

    async def write() -> None:
        nonlocal writing
        for n in range(240):
            await receive(shop, f"MANY-{sizes[n % 6]}", 1, f"w{n}")
        writing = False

    async def worker(relay: Relay) -> None:
        while writing:
            await relay.drain(shop.channel_id)

    await asyncio.gather(write(), *(worker(r) for r in relays))
    await shop.drain()

    shown = {s: shop.sandbox.inventory_quantity(f"MANY-{s}", SHOP_LOCATION) for s in sizes}
    assert shown == dict.fromkeys(sizes, 40)
    assert await outbox_rows(shop) == []


async def test_a_run_held_up_by_the_channel_renews_its_claim_so_its_rows_are_not_swept(
    shop: Shop,
) -> None:
    await shop.drain()  # published
    await receive(shop, "TEE-M", 5, "r1")
    started = datetime.now(UTC)
    ticks = itertools.count()
    claims: list[datetime] = []

    async def meanwhile() -> None:
        async with shop.container.engine.connect() as conn:
            claims.extend((await conn.execute(select(outbox.c.claimed_at))).scalars())

    relay = replace(
        shop.relay,
        connector=_Interposed(shop.relay.connector, meanwhile),
        clock=lambda: started + timedelta(minutes=next(ticks)),  # a minute per reading
        monotonic=lambda: 60.0 * next(ticks),  # ... and a minute between two looks
    )
    await relay.drain(shop.channel_id)

    assert len(claims) == 1
    assert claims[0] > started  # claimed at `started`, renewed before the call went out
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 5


async def test_listings_a_batch_has_no_time_left_for_go_back_untried_for_the_next(
    shop: Shop,
) -> None:
    for n in range(2):
        await create_sizes(shop, f"cap-{n}", f"CAP-{n}", ("One",))
    hurried = replace(shop.relay, batch_seconds=0.0)

    await hurried.drain(shop.channel_id)

    # One listing went out (a batch always sends one); the two others wait, untried.
    assert len(shop.calls("productSet")) == 1
    rows = await outbox_rows(shop)
    waiting = [(status, attempts) for kind, _, status, attempts in rows if kind == "listing"]
    assert waiting == [("retry", 0), ("retry", 0)], rows
    await shop.drain()
    assert len(shop.calls("productSet")) == 3
    assert [r for r in await outbox_rows(shop) if r[0] == "listing"] == []


async def test_a_drain_claims_what_one_call_of_the_channel_carries_once_its_port_says(
    shop: Shop,
) -> None:
    sizes = tuple(f"S{n:02d}" for n in range(60))
    await create_sizes(shop, "bulk", "BULK", sizes)
    await shop.drain()
    for size in sizes:
        await receive(shop, f"BULK-{size}", 3, f"b-{size}")
    small = replace(shop.relay, batch=5)  # Shopify's call carries 250 quantities

    claimed = [await small.drain(shop.channel_id), await small.drain(shop.channel_id)]

    assert claimed == [5, 55]
    assert all(shop.sandbox.inventory_quantity(f"BULK-{s}", SHOP_LOCATION) == 3 for s in sizes)
