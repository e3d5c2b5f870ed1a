"""Multiprocess mode: a scrape adds up the figures of every process sharing the directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from adapters.metrics import scrape

# One process's work: two events committed, one subscription still open, one closed.
PROCESS = """
from adapters.metrics import SUBSCRIPTIONS_OPEN, observe_events, process_stopped
from domain.events import Event
from pathlib import Path
import sys
observe_events([Event("stock", {"reason": "reserve"}), Event("orders", {"kind": "conflict"})])
SUBSCRIPTIONS_OPEN.labels("stock").inc()
if sys.argv[1] == "stops":
    process_stopped(Path(sys.argv[2]))
"""


def test_a_scrape_adds_up_every_process_and_forgets_stopped_ones_gauges(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for role in ("lives", "lives", "stops"):
        subprocess.run([sys.executable, "-c", PROCESS, role, str(tmp_path)], env=env, check=True)

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scrape(tmp_path).decode())
        for s in family.samples
    }
    assert samples[("nexo_events_published_total", (("topic", "stock"),))] == 3
    assert samples[("nexo_stock_changes_total", (("reason", "reserve"),))] == 3
    assert samples[("nexo_order_events_total", (("kind", "conflict"),))] == 3
    assert samples[("nexo_subscriptions_open", (("topic", "stock"),))] == 2
