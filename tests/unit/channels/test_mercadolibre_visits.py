"""The MercadoLibre adapter's visits: a multiget of 50 items a call, the asked day's figure
for every SKU of an item (a classic item's variations share it), nothing asked for a day out
of MercadoLibre's 150."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx

from adapters.channel_kit.tokens import Refresh
from adapters.channels.mercadolibre.connect import mercadolibre_factory
from adapters.ratelimit import MemoryRateLimiter
from domain.channels.availability import CHANNEL_DEFAULTS
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import ListingViews
from sandbox.mercadolibre import MercadoLibreSandbox
from tests.contract.mercadolibre import API, CREDENTIALS
from tests.contract.network import Network

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 12, 7), date(2026, 12, 6)


def item_body(title: str, skus: list[str]) -> dict[str, Any]:
    return {
        "title": title, "category_id": "MLA109282", "price": 19990, "currency_id": "ARS",
        "available_quantity": 0, "buying_mode": "buy_it_now", "listing_type_id": "gold_special",
        "condition": "new", "pictures": [],
        "attributes": [] if len(skus) > 1 else [{"id": "SELLER_SKU", "value_name": skus[0]}],
        "variations": [
            {"attribute_combinations": [{"name": "Talle", "value_name": f"T{n}"}],
             "price": 19990, "available_quantity": 0,
             "attributes": [{"id": "SELLER_SKU", "value_name": sku}]}
            for n, sku in enumerate(skus)
        ] if len(skus) > 1 else [],
    }  # fmt: skip


class OneToken:
    """The one access token the sandbox grants (the real store is the database's)."""

    def __init__(self) -> None:
        self.token: str | None = None

    async def access_token(self, channel_id: uuid.UUID, refresh: Refresh) -> str:
        if self.token is None:
            self.token = (await refresh(None)).access_token
        return self.token

    async def expire(self, channel_id: uuid.UUID, access_token: str) -> None:
        self.token = None


async def test_the_adapter_asks_50_items_a_call_and_gives_each_sku_its_items_visits() -> None:
    """61 items (one of two shirts' variations, 60 single SKUs) in two multigets; a SKU with
    no item id is left out, and a day past MercadoLibre's 150 is asked of no one (0 views)."""
    sandbox = MercadoLibreSandbox(wall_clock=lambda: NOW)
    singles = [f"SKU-{n:02d}" for n in range(60)]
    bodies = [
        item_body("Remera", ["TEE-S", "TEE-M"]),
        *(item_body(f"Item {s}", [s]) for s in singles),
    ]
    made = [str(sandbox.store.create(body)["id"]) for body in bodies]
    sandbox.visits.record("TEE-M", 9, YESTERDAY)
    sandbox.visits.record("SKU-59", 4, YESTERDAY)
    sandbox.visits.record("SKU-00", 100)  # today: not the day asked
    refs = {"TEE-S": {"item_id": made[0], "variation_id": "1"},
            "TEE-M": {"item_id": made[0], "variation_id": "2"},
            "LOOSE": {"variation_id": "3"}}  # fmt: skip
    refs |= {sku: {"item_id": item} for sku, item in zip(singles, made[1:], strict=True)}
    channel = Channel(id=uuid.uuid4(), name="MercadoLibre", kind=ChannelKind.MERCADOLIBRE,
                      currency="ARS", priority=1, location_ids=(), rule=CHANNEL_DEFAULTS,
                      created_at=NOW)  # fmt: skip
    async with httpx.AsyncClient(transport=Network(sandbox.app), base_url=API) as http:
        connect = mercadolibre_factory(http, MemoryRateLimiter(), OneToken(), clock=lambda: NOW)
        port = connect(channel, ChannelConfig(channel.id), CREDENTIALS)
        assert isinstance(port, ListingViews)
        viewed = await port.read_views(refs, YESTERDAY)
        asked = len(sandbox.calls)
        too_old = await port.read_views(refs, date(2026, 7, 9))  # 152 days back
    await sandbox.aclose()

    assert viewed == {"TEE-S": 9, "TEE-M": 9, "SKU-59": 4} | {s: 0 for s in singles[:59]}
    visits_calls = [c for c in sandbox.calls if c["path"] == "/items/visits/time_window"]
    assert [c["status"] for c in visits_calls] == [200, 200]  # 61 items: 50, then 11
    assert too_old == {sku: 0 for sku in refs if sku != "LOOSE"}
    assert len(sandbox.calls) == asked  # the day too old asked nothing
