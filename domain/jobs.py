"""Background jobs as the core sees them: a named async function and how to run it.

A job function takes a context mapping (the ports it needs) and plain arguments (ids,
numbers, strings: they cross a queue). It may run more than once, so it must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

JobContext = Mapping[str, Any]
JobFunction = Callable[..., Awaitable[Any]]

# Every job's name, as the registry registers it and every enqueuer asks for it.
EXPIRE_RESERVATIONS_JOB = "expire_reservations"
DRAIN_JOB = "drain_channel"
SWEEP_OUTBOX_JOB = "sweep_outbox"
RECONCILE_JOB = "reconcile_channel"
# Reads the SKUs whose figures are to settle again: lowered ones waiting for the channel's
# orders, and those a quantity push was refused for as stale (accepting the channel's edits).
RECHECK_JOB = "recheck_drifts"
RECONCILE_ALL_JOB = "reconcile_channels"
ALLOCATE_JOB = "allocate_order"
ALLOCATE_OPEN_JOB = "allocate_open_orders"
# Fills a SKU's backordered lines from stock that arrived (enqueued after the commit that
# brought it); the sweep does the same for SKUs whose arrival no job saw.
BACKORDER_JOB = "fill_backorders"
BACKORDER_SWEEP_JOB = "sweep_backorders"
# Raises an alert, once each, for manual conflicts left unresolved too long.
CONFLICT_AGE_JOB = "alert_aged_conflicts"
PULL_JOB = "pull_orders"
PULL_ALL_JOB = "pull_all_orders"
PROCESS_INBOX_JOB = "process_inbox"
PROCESS_INBOX_MANY_JOB = "process_inbox_many"  # the events the webhook intake stored together
RETRY_INBOX_JOB = "retry_inbox"
MATCH_CUSTOMERS_JOB = "match_customers"
# Reads the queues channels put their notifications in (Amazon's SQS) into the inbox.
READ_QUEUES_JOB = "read_notification_queues"
# Reads the listing views channels report (today's and the days still settling) for the
# conversion report.
READ_VIEWS_JOB = "read_channel_views"
# Folds the rows order changes appended to the sales rollup into one row per key.
COMPACT_ROLLUP_JOB = "compact_sales_rollup"
# Counts the stock channels hold and ship themselves (Amazon's FBA) into their
# channel-managed locations.
READ_MANAGED_STOCK_JOB = "read_managed_stock"
# Delivers fulfilment requests due to their partners' webhooks (enqueued after the commit
# that made them; also periodic, for retries coming due and lost requests).
DELIVER_REQUESTS_JOB = "deliver_fulfilment_requests"


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    function: JobFunction
    max_tries: int = 5
    timeout_seconds: float = 300.0
    # Periodic jobs run every this many seconds (a divisor of 60) on every runtime.
    every_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if self.every_seconds is not None and (
            self.every_seconds < 1 or 60 % self.every_seconds != 0
        ):
            raise ValueError("every_seconds must divide 60")


@dataclass(frozen=True, slots=True)
class IfTaken:
    """Where a job goes when its id is already known to the queue (queued, running, or run
    and its result kept, which under arq is an hour): under `job_id` instead, run no sooner
    than `defer_seconds` after it is enqueued."""

    job_id: str
    defer_seconds: float


def periodic_job_id(spec: JobSpec, slot: int) -> str:
    """One id per job per time slot, so several schedulers start it once."""
    return f"periodic:{spec.name}:{slot}"
