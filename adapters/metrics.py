"""Nexo's Prometheus instruments, each defined once here, and the text a scrape answers.

Each instrument is fed at one seam: GraphQL operations by a schema extension, events by the
unit of work's commit, subscriptions by the bus fan-out, channel calls by each client's
`channel.call` record, webhooks by their route, jobs by the attempt both queues share.

With `PROMETHEUS_MULTIPROC_DIR` set (several uvicorn processes, arq workers) every process
writes its figures to files there, and a scrape of any API process adds them all up
(prometheus_client's multiprocess mode; the directory must be empty when the processes
start). Without it, a scrape sees the process it reached.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from domain.events import Event
from domain.inventory.events import STOCK_TOPIC
from domain.orders.events import ORDER_TOPIC

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

GRAPHQL_SECONDS: Final = Histogram(
    "nexo_graphql_request_seconds",
    "GraphQL queries and mutations by operation (their first root field), parse to result.",
    ["type", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SUBSCRIPTIONS_OPEN: Final = Gauge(
    "nexo_subscriptions_open",
    "Live subscriptions held by this process, by bus topic.",
    ["topic"],
    multiprocess_mode="livesum",
)
EVENTS: Final = Counter(
    "nexo_events_published_total", "Domain events committed and sent to the bus.", ["topic"]
)
EVENT_PUBLISH_FAILURES: Final = Counter(
    "nexo_event_publish_failures_total",
    "Events the bus refused after their commit (live hints lost; sweeps repair the rest).",
)
STOCK_CHANGES: Final = Counter(
    "nexo_stock_changes_total",
    'Stock level changes by reason: reservations are reason="reserve".',
    ["reason"],
)
ORDER_EVENTS: Final = Counter(
    "nexo_order_events_total",
    'Order book events by kind: conflicts (unreservable lines) are kind="conflict".',
    ["kind"],
)
CHANNEL_CALLS: Final = Counter(
    "nexo_channel_calls_total",
    "Calls to marketplaces by channel kind and outcome (ok, throttled, unavailable, ...).",
    ["channel", "outcome"],
)
CHANNEL_CALL_SECONDS: Final = Histogram(
    "nexo_channel_call_seconds",
    "Marketplace call latency, excluding the wait for the channel's rate limit.",
    ["channel"],
)
WEBHOOKS: Final = Counter(
    "nexo_webhooks_total",
    "Webhooks received, by outcome (received, duplicate, rejected, stale, rate_limited...).",
    ["outcome"],
)
JOB_SECONDS: Final = Histogram(
    "nexo_job_seconds",
    "Background job attempts by job and outcome (ok, failed), on arq or in-process alike.",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def observe_events(events: Iterable[Event]) -> None:
    """Count committed events, and the reservations and conflicts among them."""
    for event in events:
        EVENTS.labels(event.topic).inc()
        if event.topic == STOCK_TOPIC:
            STOCK_CHANGES.labels(str(event.payload.get("reason"))).inc()
        elif event.topic == ORDER_TOPIC:
            ORDER_EVENTS.labels(str(event.payload.get("kind"))).inc()


def observe_channel_call(channel: str, outcome: str, seconds: float) -> None:
    CHANNEL_CALLS.labels(channel, outcome).inc()
    CHANNEL_CALL_SECONDS.labels(channel).observe(seconds)


class _Families(Collector):
    def __init__(self, families: Iterable[Metric]):
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def scrape(multiproc_dir: Path | None, extra: Iterable[Metric] = ()) -> bytes:
    """The text format of every process's instruments (all processes' in multiprocess mode),
    followed by `extra` families computed for this scrape."""
    if multiproc_dir is None:
        text = generate_latest(REGISTRY)
    else:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(multiproc_dir))  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    own = CollectorRegistry(auto_describe=False)
    own.register(_Families(extra))
    return text + generate_latest(own)


def process_stopped(multiproc_dir: Path | None) -> None:
    """A process leaving: its live gauges (subscriptions open) stop counting in the sum."""
    if multiproc_dir is not None:
        mark_process_dead(os.getpid(), str(multiproc_dir))  # type: ignore[no-untyped-call]
