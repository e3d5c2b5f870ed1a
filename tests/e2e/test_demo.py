"""The embedded demo as a user meets it (`make run`): `nexo-sandbox demo` on a fresh SQLite file.

Stock changed in Nexo reaches the in-process Shopify sandbox within a second; the seeded
catalog and channels (one per marketplace sandbox, and a web store) are there on first start;
the traffic simulator's orders arrive from every channel. The simulator starts paused here
(its buyers would move the figures the other tests wait for) and runs in its own test.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import DEMO, SERVE, Server, free_port, nexo_env, serving
from tests.e2e.test_server import KEY, migrated_site
from tests.graphql import keys_in

pytestmark = pytest.mark.solo  # a change reaches the sandbox within a second

SHOP_LOCATION = "gid://shopify/Location/1"
# The listings reach five channels, then orders come back by webhook, notification, the
# Amazon queue (read every 5 s) or a pull, on shared cores.
ORDERS_WITHIN = 30.0
# Four sandboxes are built before the demo answers (Shopify's parses the whole Admin schema):
# seconds of CPU, many more on a loaded machine.
DEMO_START_WITHIN = 90.0
SETTLED_WITHIN = 30.0


def sandbox_quantity(server: Server, sku: str) -> int | None:
    state = httpx.get(f"{server.base_url}/sandbox/shopify/_sandbox/state", timeout=5).json()
    for level in state["inventoryLevels"]:
        if level["sku"] == sku and level["locationId"] == SHOP_LOCATION:
            return int(level["quantities"]["available"])
    return None


def wait_for(server: Server, sku: str, quantity: int, within: float) -> float:
    """Seconds until the sandbox shows `quantity` for `sku`; fails after `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if sandbox_quantity(server, sku) == quantity:
            return time.monotonic() - started
        time.sleep(0.02)
    pytest.fail(f"the sandbox never showed {quantity} x {sku}: {sandbox_quantity(server, sku)}")


def graphql(server: Server, key: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client(key) as http:
        body = keys_in(http.post("/graphql", json={"query": query, "variables": variables}).json())
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


BACKLOG = "query($c: ID!) { channelSyncStatus(channelId: $c) { pending } }"


def settle(server: Server, key: str) -> None:
    """Wait until no channel has anything left to send (the first listings on four
    marketplaces take a few seconds): a change measured then has the process to itself."""
    channels = [c["id"] for c in graphql(server, key, "{ channels { id } }")["channels"]]
    deadline = time.monotonic() + SETTLED_WITHIN
    while time.monotonic() < deadline:
        pending = [graphql(server, key, BACKLOG, c=c)["channelSyncStatus"]["pending"]
                   for c in channels]  # fmt: skip
        if not any(pending):
            return
        time.sleep(0.1)
    pytest.fail(f"the channels still had {pending} to send after {SETTLED_WITHIN}s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home = tmp_path_factory.mktemp("demo")
    site = migrated_site(
        home, NEXO_DATABASE_URL=f"sqlite:///{home / 'nexo.db'}", NEXO_DEMO_ORDERS_PER_MINUTE="0"
    )
    with serving(home, site.env, "demo", command=DEMO, within=DEMO_START_WITHIN) as (server,):
        keys = KEY.findall(server.err)
        assert len(keys) == 1, server.err
        yield server, str(keys[0])


def test_the_demo_seeds_a_channel_per_sandbox_and_a_catalog_and_lists_it_on_shopify(
    demo: tuple[Server, str],
) -> None:
    server, key = demo
    found = graphql(
        server, key, "{ channels { name kind } products(first: 10) { edges { node { handle } } } }"
    )
    assert sorted((c["name"], c["kind"]) for c in found["channels"]) == [
        ("Amazon (sandbox)", "AMAZON"),
        ("MercadoLibre (sandbox)", "MERCADOLIBRE"),
        ("Shopify (sandbox)", "SHOPIFY"),
        ("Web store", "WEBSTORE"),
        ("eBay (sandbox)", "EBAY"),
    ]
    assert len(found["products"]["edges"]) == 3
    # 20 received, minus the Shopify channel's safety buffer of one.
    wait_for(server, "TEE-M", 19, within=15)


def test_a_stock_change_reaches_the_sandbox_within_a_second(demo: tuple[Server, str]) -> None:
    server, key = demo
    wait_for(server, "MUG-1", 29, within=15)
    settle(server, key)
    location = graphql(server, key, "{ locations { id code } }")["locations"][0]["id"]

    received = graphql(
        server, key,
        """mutation($l: ID!) { receiveStock(input: {sku: "MUG-1", locationId: $l, quantity: 5,
             idempotencyKey: "demo-e2e-1"}) { userErrors { code } } }""",
        l=location,
    )  # fmt: skip

    assert received["receiveStock"]["userErrors"] == []
    assert wait_for(server, "MUG-1", 34, within=5) < 1.0


ORDERS_OF = (
    "query($c: ID!) { orders(first: 1, filter: {channelIds: [$c]}) { edges { node { id } } } }"
)


def test_the_simulated_buyers_order_on_every_channel(demo: tuple[Server, str]) -> None:
    server, key = demo
    traffic = f"{server.base_url}/sandbox/traffic"
    assert httpx.post(traffic, json={"ordersPerMinute": "fast"}, timeout=5).status_code == 400
    started = time.monotonic()
    channels = graphql(server, key, "{ channels { id kind } }")["channels"]
    assert httpx.post(traffic, json={"ordersPerMinute": 300}, timeout=5).status_code == 200
    waiting = {c["kind"]: c["id"] for c in channels}
    try:
        while waiting and time.monotonic() - started < ORDERS_WITHIN:
            for kind, channel in list(waiting.items()):
                if graphql(server, key, ORDERS_OF, c=channel)["orders"]["edges"]:
                    del waiting[kind]
            time.sleep(0.2)
        assert not waiting, f"no order from {waiting}; placed: {httpx.get(traffic).json()}"
    finally:
        httpx.post(traffic, json={"ordersPerMinute": 0}, timeout=5)
    # A person reads the demo's log: text lines, without one per call to its own sandboxes.
    lines = server.err.splitlines()
    assert any(" INFO  api.started  environment=dev" in line for line in lines), server.err
    assert [line for line in lines if " INFO  channel.call " in line] == []
    assert [line for line in lines if " INFO  inbox.processed " in line] == []
    # Each channel hears of its orders the way it tells them: Amazon's notification queue is
    # read with the demo's AWS keys (not left to the periodic pull). While the demo seeds
    # itself it does not listen yet, and a queue read then cannot reach it: from the start on.
    started_at = next(n for n, line in enumerate(lines) if " api.started " in line)
    assert [line for line in lines[started_at:] if "queue.read_failed" in line] == []


def test_nexo_serve_leaves_the_demo_to_its_development_entry_point(tmp_path: Path) -> None:
    env = nexo_env(NEXO_DATABASE_URL=f"sqlite:///{tmp_path / 'nexo.db'}", NEXO_DEMO="1")

    refused = subprocess.run(
        [*SERVE, "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert refused.returncode == 2
    assert "nexo-sandbox demo" in refused.stderr
