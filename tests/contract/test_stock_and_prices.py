"""Quantities and prices: what the hub publishes is what the channel shows, read back the same,
and a figure moved on the channel is never overwritten unseen."""

from __future__ import annotations

from decimal import Decimal

from tests.api.catalog.test_prices import SET_SKU_PRICE_OVERRIDE, channel_price, set_price_rule
from tests.api.test_webhooks import MOVEMENTS, SET_POLICY
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, SHIRTS, Hub


async def shows(hub: Hub, sku: str) -> tuple[int | None, Decimal | None]:
    item = await hub.channel.item(sku)
    assert item is not None, f"{sku} is not on the channel"
    return item.quantity, item.price


async def test_the_quantities_the_hub_publishes_are_what_the_channel_shows(hub: Hub) -> None:
    before = len(await hub.calls("push_quantities"))
    await hub.receive("TS-S-RED", 4)
    await hub.adjust(MUG, -1)
    for _ in range(10):
        await hub.receive("TS-L-BLUE", 1)

    await hub.settle()

    for sku, quantity in {"TS-S-RED": 4, MUG: 2, "TS-L-BLUE": 12}.items():
        assert await hub.published(sku) == quantity
        assert (await shows(hub, sku))[0] == quantity
        assert (await hub.listed(sku))["confirmedQuantity"] == quantity
    pushes = (await hub.calls("push_quantities"))[before:]
    assert {c["outcome"] for c in pushes} == {"OK"}
    # Eleven changes of TS-L-BLUE, pushed as the one figure they came to.
    assert sum(c["keys"].count("TS-L-BLUE") for c in pushes) == 1


async def test_prices_follow_the_channels_rule_and_a_skus_override(hub: Hub) -> None:
    ruled = await set_price_rule(hub.http, hub.key, hub.channel_id, markupPercent="10",
                                 rounding="CHARM", charmEnding="0.99")  # fmt: skip
    assert ruled["userErrors"] == []
    override = {"channelId": hub.channel_id, "sku": MUG,
                "price": {"amount": "12.00", "currencyCode": hub.channel.currency}}  # fmt: skip
    await hub.change(SET_SKU_PRICE_OVERRIDE, "setSkuPriceOverride", input=override)

    await hub.settle()

    for sku in (*SHIRTS, MUG):
        price = Decimal((await channel_price(hub.http, hub.key, hub.channel_id, sku))["price"]
                        ["amount"])  # fmt: skip
        assert price != Decimal("20.00")  # the rule's, not the base price
        assert (await shows(hub, sku))[1] == price
        assert Decimal((await hub.listed(sku))["confirmedPrice"]["amount"]) == price
    assert (await shows(hub, MUG))[1] == Decimal("12.00")
    assert {c["outcome"] for c in await hub.calls("push_prices")} == {"OK"}


async def test_under_hub_wins_a_figure_moved_on_the_channel_is_set_to_the_hubs(hub: Hub) -> None:
    await hub.channel.edit("TS-M-RED", quantity=42, delivery=Delivery.LOST)
    await hub.receive("TS-M-RED", 1)

    await hub.settle()

    assert await shows(hub, "TS-M-RED") == (6, Decimal("20.00"))
    assert await hub.stock("TS-M-RED") == (6, 0, 6)  # the channel's 42 taken for nothing
    assert (await hub.listed("TS-M-RED"))["confirmedQuantity"] == 6
    assert (await hub.status())["pending"] == 0


async def test_accepting_channel_edits_a_push_never_overwrites_an_edit_it_has_not_seen(
    hub: Hub,
) -> None:
    given = {"channelId": hub.channel_id, "policy": "ACCEPT_CHANNEL_EDITS"}
    await hub.change(SET_POLICY, "setStockEditPolicy", input=given)
    await hub.channel.edit("TS-M-RED", quantity=42, delivery=Delivery.LOST)  # 5 -> 42 there
    await hub.receive("TS-M-RED", 1)  # 5 -> 6 here, pushed over a figure that moved

    await hub.settle()
    await hub.later()

    # The merchant's +37 on the channel and the hub's +1 both stand, on both sides.
    assert await hub.stock("TS-M-RED") == (43, 0, 43)
    assert (await shows(hub, "TS-M-RED"))[0] == 43
    movements = (await hub.call(MOVEMENTS, sku="TS-M-RED"))["stockMovements"]["nodes"]
    assert [m["onHandDelta"] for m in movements if m["reason"] == "CHANNEL_EDIT"] == [37]
    assert (await hub.status())["pending"] == 0


async def test_reconciliation_reads_back_what_was_pushed_and_repairs_what_drifted(
    hub: Hub,
) -> None:
    await hub.request_reconcile()
    await hub.settle()
    [in_step] = await hub.calls("reconcile")
    assert (in_step["outcome"], in_step["keys"]) == ("OK", [])
    assert in_step["message"] == "checked 7, drifted 0"

    await hub.channel.edit(MUG, quantity=10)  # both edited in the channel's admin, unheard of
    await hub.channel.edit("TS-S-BLUE", price=Decimal("1.00"))
    await hub.request_reconcile()
    await hub.settle()

    drifted = (await hub.calls("reconcile"))[-1]
    assert (drifted["outcome"], sorted(drifted["keys"])) == ("OK", [MUG, "TS-S-BLUE"])
    assert await shows(hub, MUG) == (3, Decimal("9.50"))
    assert await shows(hub, "TS-S-BLUE") == (0, Decimal("20.00"))
    assert await hub.stock(MUG) == (3, 0, 3)  # the hub's figure won
    await hub.request_reconcile()
    await hub.settle()
    assert (await hub.calls("reconcile"))[-1]["keys"] == []
