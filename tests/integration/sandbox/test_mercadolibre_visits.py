"""The MercadoLibre sandbox's visits: it answers `GET /items/visits/time_window` and `GET
/visits/items` as MercadoLibre documents them (per item and day; a classic item's visits are
its variations' page's), behind the token and the rate limit every call meets; tests record
visits through `POST /_sandbox/visits`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.channels.mercadolibre.visits import day_visits
from sandbox.mercadolibre import MercadoLibreSandbox
from tests.contract.network import Network
from tests.unit.channels.test_mercadolibre_visits import NOW, TODAY, YESTERDAY, item_body


@pytest.fixture
async def meli() -> AsyncIterator[tuple[MercadoLibreSandbox, httpx.AsyncClient, list[str]]]:
    sandbox = MercadoLibreSandbox(wall_clock=lambda: NOW, calls_per_second=3)
    async with httpx.AsyncClient(transport=Network(sandbox.app), base_url="http://ml") as http:
        seeded = await http.post("/_sandbox/seed", json={"items": [
            item_body("Remera", ["TEE-S", "TEE-M"]), item_body("Taza", ["MUG"])]})  # fmt: skip
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
