"""MercadoLibre's visits: the sandbox answers `GET /items/visits/time_window` and `GET
/visits/items` as MercadoLibre documents them (per item and day; a classic item's visits are
its variations' page's), behind the token and the rate limit every call meets; tests record
visits through `POST /_sandbox/visits`. The adapter keeps the asked day's figure for every
SKU of an item, and asks nothing for a day out of MercadoLibre's 150."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from adapters.channel_kit.tokens import Refresh
from adapters.channels.mercadolibre.connect import mercadolibre_factory
from adapters.channels.mercadolibre.visits import day_visits
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


def _item(title: str, skus: list[str]) -> dict[str, Any]:
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


@pytest.fixture
async def meli() -> AsyncIterator[tuple[MercadoLibreSandbox, httpx.AsyncClient, list[str]]]:
    sandbox = MercadoLibreSandbox(wall_clock=lambda: NOW, calls_per_second=3)
    async with httpx.AsyncClient(transport=Network(sandbox.app), base_url="http://ml") as http:
        seeded = await http.post("/_sandbox/seed", json={"items": [
            _item("Remera", ["TEE-S", "TEE-M"]), _item("Taza", ["MUG"])]})  # fmt: skip
        ids = [str(i["id"]) for i in seeded.json()["items"]]
        token = await http.post("/oauth/token", content=(
            "grant_type=refresh_token&client_id=4242424242&client_secret=sandbox-secret"
            "&refresh_token=TG-sandbox-refresh"), headers={
            "content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        http.headers["authorization"] = f"Bearer {token.json()['access_token']}"
        yield sandbox, http, ids
        await sandbox.aclose()


async def test_visits_recorded_by_sku_are_the_items_per_day_and_in_total(
    meli: tuple[MercadoLibreSandbox, httpx.AsyncClient, list[str]],
) -> None:
    _sandbox, http, (tee, mug) = meli
    recorded = [
        await http.post("/_sandbox/visits", json=body)
        for body in (
            {"sku": "TEE-S", "visits": 5, "day": str(YESTERDAY)},
            {"sku": "TEE-M", "visits": 7},  # today; the same item as TEE-S
            {"sku": "MUG", "visits": 2},
        )
    ]
    refused = await http.post("/_sandbox/visits", json={"sku": "NOPE", "visits": 1})

    window = await http.get("/items/visits/time_window",
                            params={"ids": f"{tee},{mug}", "last": "2", "unit": "day"})  # fmt: skip
    totals = await http.get("/visits/items", params={
        "ids": f"{tee},{mug}", "date_from": f"{YESTERDAY}T00:00:00.000-00:00",
        "date_to": f"{TODAY}T00:00:00.000-00:00"})  # fmt: skip

    assert [r.json() for r in recorded] == [{"itemId": tee}, {"itemId": tee}, {"itemId": mug}]
    assert refused.status_code == 409
    assert window.status_code == 200
    [shirt, cup] = window.json()
    assert shirt == {
        "item_id": tee, "date_from": "2026-12-06T00:00:00Z", "date_to": "2026-12-08T00:00:00Z",
        "total_visits": 12, "last": 2, "unit": "day",
        "results": [
            {"date": "2026-12-06T00:00:00Z", "total": 5,
             "visits_detail": [{"company": "mercadolibre", "quantity": 5}]},
            {"date": "2026-12-07T00:00:00Z", "total": 7,
             "visits_detail": [{"company": "mercadolibre", "quantity": 7}]},
        ],
    }  # fmt: skip
    assert [r["total"] for r in cup["results"]] == [0, 2]
    assert totals.json() == {tee: 12, mug: 2}
    assert day_visits(window.json(), YESTERDAY) == {tee: 5, mug: 0}
    assert day_visits(window.json(), TODAY) == {tee: 7, mug: 2}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"last": "2", "unit": "week"}, 400),
        ({"last": "151", "unit": "day"}, 400),
        ({"last": "0", "unit": "day"}, 400),
        ({"ids": ",".join(f"MLA{n}" for n in range(51)), "last": "1", "unit": "day"}, 400),
        ({"ids": "MLA999", "last": "1", "unit": "day"}, 404),
    ],
)
async def test_a_question_out_of_the_resources_rules_is_refused(
    meli: tuple[MercadoLibreSandbox, httpx.AsyncClient, list[str]],
    params: dict[str, str],
    status: int,
) -> None:
    _sandbox, http, (tee, _mug) = meli
    answer = await http.get("/items/visits/time_window", params={"ids": tee, **params})
    assert answer.status_code == status


async def test_visits_need_a_token_and_meet_the_accounts_rate_limit(
    meli: tuple[MercadoLibreSandbox, httpx.AsyncClient, list[str]],
) -> None:
    _sandbox, http, (tee, _mug) = meli
    ask = {"ids": tee, "last": "1", "unit": "day"}
    anonymous = await http.get("/items/visits/time_window", params=ask,
                               headers={"authorization": ""})  # fmt: skip
    burst = [(await http.get("/items/visits/time_window", params=ask)).status_code
             for _ in range(6)]  # fmt: skip

    assert anonymous.status_code == 401
    assert burst[0] == 200
    assert 429 in burst  # 3 calls a second: a burst of 6 outruns the bucket


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
    bodies = [_item("Remera", ["TEE-S", "TEE-M"]), *(_item(f"Item {s}", [s]) for s in singles)]
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
