"""The warehouse board (`/board`) in a real headless Chromium against a real `nexo serve`.

The browser reaches the server through a TCP proxy, so a test can drop the board's
connections the way a network does. Stock changes are made through the API directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.e2e.servers import Server, serving
from tests.e2e.tcp_proxy import Proxy, proxying
from tests.e2e.test_order_processes import (
    CREATE_CHANNEL,
    CREATE_LOCATION,
    CREATE_PRODUCT,
    RECEIVE,
    product,
)
from tests.e2e.test_server import KEY, migrated_site
from tests.graphql import data

pytestmark = pytest.mark.solo  # a change shows on the board within a second

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SKU = "BOARD-1"
LIVE_WITHIN_MS = 1000


@dataclass
class Hub:
    server: Server
    key: str
    proxy: Proxy
    location: str = ""
    received: int = 0

    @property
    def board_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}/board?skus={SKU}"

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        with self.server.client(self.key) as http:
            response = http.post("/graphql", json={"query": query, "variables": variables})
        (payload,) = data(response.json()).values()
        assert payload["userErrors"] == [], payload
        found: dict[str, Any] = payload
        return found

    def receive(self, quantity: int) -> None:
        self.received += 1
        self.ok(RECEIVE, input={"sku": SKU, "locationId": self.location, "quantity": quantity,
                                "idempotencyKey": f"board-{self.received}"})  # fmt: skip


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    home: Path = tmp_path_factory.mktemp("board")
    site = migrated_site(home, NEXO_DATABASE_URL=f"sqlite:///{home / 'nexo.db'}")
    with serving(home, site.env, "board") as (server,), proxying(server.port) as proxy:
        (key,) = KEY.findall(server.err)
        made = Hub(server, str(key), proxy)
        made.location = made.ok(CREATE_LOCATION)["location"]["id"]
        web_store = {"name": "Web store", "kind": "WEBSTORE", "currency": "USD",
                     "locationIds": [made.location]}  # fmt: skip
        made.ok(CREATE_CHANNEL, input=web_store)
        made.ok(CREATE_PRODUCT, input=product("board-tee", (SKU,)))
        made.receive(10)
        yield made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def cell(page: Page, field: str) -> Locator:
    return page.locator(f'tr[data-sku="{SKU}"] td[data-location="WH"][data-field="{field}"]')


def open_board(page: Page, hub: Hub) -> None:
    page.goto(hub.board_url)
    page.fill("#key-input", hub.key)
    page.click("#key-form button")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def test_the_board_asks_for_a_key_once_and_refuses_a_bad_one(page: Page, hub: Hub) -> None:
    page.goto(hub.board_url)
    page.fill("#key-input", "nexo_" + "x" * 43)
    page.click("#key-form button")
    expect(page.locator("#key-message")).to_have_text("That key was refused.")

    open_board(page, hub)
    page.reload()

    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#key-form")).to_be_hidden()
    expect(page.locator("#channels li[data-channel='Web store']")).to_be_visible()


def test_a_stock_change_made_through_the_api_shows_within_a_second(page: Page, hub: Hub) -> None:
    open_board(page, hub)
    before = int(cell(page, "onHand").inner_text())

    hub.receive(5)

    expect(cell(page, "onHand")).to_have_text(str(before + 5), timeout=LIVE_WITHIN_MS)
    expect(cell(page, "available")).to_have_text(str(before + 5), timeout=LIVE_WITHIN_MS)
    web_store = page.locator(f'tr[data-sku="{SKU}"] td[data-channel="Web store"]')
    expect(web_store).to_have_text(str(before + 5), timeout=LIVE_WITHIN_MS)


def test_after_a_dropped_connection_the_board_catches_up_and_stays_live(
    page: Page, hub: Hub
) -> None:
    open_board(page, hub)
    before = int(cell(page, "onHand").inner_text())

    hub.proxy.cut()
    expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    hub.receive(3)  # while the board is away: its event is lost to it
    hub.proxy.mend()

    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=10_000)
    expect(cell(page, "onHand")).to_have_text(str(before + 3))
    hub.receive(4)
    expect(cell(page, "onHand")).to_have_text(str(before + 7), timeout=LIVE_WITHIN_MS)


def test_the_board_is_a_page_and_two_modules_and_nothing_else(hub: Hub) -> None:
    base = hub.server.base_url
    page = httpx.get(f"{base}/board", timeout=5)
    assert page.status_code == 200
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{base}/board/assets/gqlws.js", timeout=5).status_code == 200
    assert httpx.get(f"{base}/board/assets/..%2Fboard.html", timeout=5).status_code == 404
    assert httpx.get(f"{base}/board/assets/__init__.py", timeout=5).status_code == 404
