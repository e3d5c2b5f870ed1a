"""The fault harness's short version (bench/faults): a minute of mixed load on two API
processes, two workers, the Shopify, Amazon, eBay and MercadoLibre sandboxes and the
harness's own Redis, on PostgreSQL, while every kind of fault strikes once or twice; then the
history checker.

It asserts what the long version (`python -m bench.faults`, ten minutes) proves: no rule of
bench/faults/checker.py is broken. A failure prints each violation with the minimal history
that shows it; the run's files (history, end state, logs) stay in the test's tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.faults.checker import by_rule
from bench.faults.report import figures, print_all
from bench.faults.run import Options, run
from tests import services

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.solo]

SECONDS = 60.0
CONVERGE_WITHIN = 30.0
SHOPPERS = 4
SEED = 13
OPERATIONS = {
    "checkout_reserve",
    "place_order",
    "shop_order",
    "receive",
    "adjust",
    "count",
    "transfer",
    "ship",
    "cancel",
    "return",
    "pull",
}
FAULTS = {
    "kill_worker",
    "kill_api",
    "restart_redis",
    "stop_sandbox",
    "shop_latency",
    "webhook_faults",
}
MARKETPLACES = {"shopify", "amazon", "ebay", "mercadolibre"}
SHOWN = 12


def _services() -> str:
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    if shutil.which("redis-server") is None:  # the harness restarts a Redis of its own
        services.absent("redis-server", "PATH")
    assert services.TEST_DATABASE_URL is not None
    return services.TEST_DATABASE_URL


async def test_a_minute_of_mixed_load_under_every_fault_breaks_no_rule(tmp_path: Path) -> None:
    server = _services()

    result = await run(
        Options(
            seconds=SECONDS,
            seed=SEED,
            database_url=server,
            out=tmp_path,
            shoppers=SHOPPERS,
            converge_within=CONVERGE_WITHIN,
            policy="ACCEPT_CHANNEL_EDITS",
        )
    )

    rows, extra = figures(
        result.history,
        result.violations,
        webhook_log=result.webhook_log,
        notifications=result.notifications,
        propagation_p95_ms=result.propagation_p95_ms,
        outbox_max_age=result.outbox_max_age,
        seed=SEED,
        history_path=tmp_path / "history.jsonl",
        end=result.end,
        outbox_oldest=result.outbox_oldest,
    )
    print_all(rows, extra, result.violations)
    done = {
        r["kind"] for r in result.history if r.get("type") == "op" and r["outcome"] == "accepted"
    }
    struck = {r["kind"] for r in result.history if r.get("type") == "fault"}
    sold_on = {
        r.get("channel", "shopify")
        for r in result.history
        if r.get("kind") == "shop_order" and r["outcome"] == "accepted"
    }
    stopped = {r["target"] for r in result.history if r.get("kind") == "stop_sandbox"}
    assert done >= OPERATIONS, f"operations never accepted: {OPERATIONS - done}"
    assert sold_on == MARKETPLACES
    assert struck == FAULTS
    assert "sandbox" in stopped  # the shop
    assert len(stopped) == 2  # and another marketplace
    assert extra["faults"]["webhook_dropped"] > 0
    assert extra["faults"]["webhook_duplicated"] > 0
    # The other marketplaces' notifications are dropped and duplicated too (counted by their
    # sandboxes; too few in a minute to ask each for both).
    assert set(result.notifications) == MARKETPLACES - {"shopify"}
    assert sum(sum(done.values()) for done in result.notifications.values()) > 0
    assert result.violations == [], f"violations by rule {by_rule(result.violations)}:\n\n" + (
        "\n\n".join(v.render() for v in result.violations[:SHOWN])
    )
