"""Every background job Nexo runs, under arq or in-process alike."""

from __future__ import annotations

from domain.jobs import (
    ALLOCATE_JOB,
    ALLOCATE_OPEN_JOB,
    BACKORDER_JOB,
    BACKORDER_SWEEP_JOB,
    COMPACT_ROLLUP_JOB,
    CONFLICT_AGE_JOB,
    DELIVER_REQUESTS_JOB,
    DRAIN_JOB,
    EXPIRE_RESERVATIONS_JOB,
    MATCH_CUSTOMERS_JOB,
    PROCESS_INBOX_JOB,
    PROCESS_INBOX_MANY_JOB,
    PULL_ALL_JOB,
    PULL_JOB,
    READ_MANAGED_STOCK_JOB,
    READ_QUEUES_JOB,
    READ_VIEWS_JOB,
    RECHECK_JOB,
    RECONCILE_ALL_JOB,
    RECONCILE_JOB,
    RETRY_INBOX_JOB,
    SWEEP_OUTBOX_JOB,
    JobSpec,
)
from workers.jobs.analytics import compact_sales_rollup, read_channel_views
from workers.jobs.customers import match_customers
from workers.jobs.inbox import (
    process_inbox,
    process_inbox_many,
    read_notification_queues,
    retry_inbox,
)
from workers.jobs.inventory import expire_reservations
from workers.jobs.managed_stock import read_channels_managed_stock
from workers.jobs.orders import (
    alert_aged_conflicts,
    allocate_open_orders,
    allocate_order,
    fill_backorders,
    pull_all_orders,
    pull_orders,
    sweep_backorders,
)
from workers.jobs.partners import deliver_fulfilment_requests
from workers.jobs.sync import (
    drain_channel,
    recheck_drifts,
    reconcile_channel,
    reconcile_channels,
    sweep_outbox,
)

# An expired reservation stops counting against availability within this many seconds.
EXPIRY_SWEEP_SECONDS = 5
# Retries coming due and lost run requests are picked up within this many seconds.
OUTBOX_SWEEP_SECONDS = 5
# An order's allocation whose run died is taken over within its lease and this many seconds.
ALLOCATION_SWEEP_SECONDS = 1
# Backordered lines are filled from stock no job was asked about within this many seconds.
BACKORDER_SWEEP_SECONDS = 30
# Manual conflicts left waiting are alerted within this many seconds of their age.
CONFLICT_AGE_SECONDS = 60
# Inbound events whose run request was lost, and failed ones, are retried this often.
INBOX_SWEEP_SECONDS = 30
# A new order's buyer is matched into a customer within this many seconds.
CUSTOMER_MATCH_SECONDS = 5
# Channels' listing views are looked at this often, and read when an hour old (see the job).
VIEWS_CHECK_SECONDS = 60
# The stock channels hold themselves (FBA) is counted into the hub this often (a read of
# Amazon's summaries: 2 calls a second, 50 SKUs a call).
MANAGED_STOCK_SECONDS = 60
# Notifications waiting in a channel's queue (Amazon's SQS, MercadoLibre's missed pointers)
# reach the inbox within this many seconds.
QUEUE_READ_SECONDS = 5
# The sales rollup's appended rows are folded this often (reports read them either way).
ROLLUP_COMPACTION_SECONDS = 30
# Fulfilment requests that wait (a retry come due, an endpoint newly set, a lost request to
# run) reach their partners within this many seconds.
DELIVERY_SWEEP_SECONDS = 5

JOBS: list[JobSpec] = [
    JobSpec(
        EXPIRE_RESERVATIONS_JOB,
        expire_reservations,
        max_tries=3,
        timeout_seconds=60,
        every_seconds=EXPIRY_SWEEP_SECONDS,
    ),
    # The relay handles channel failures itself (outbox retries); a job retry covers only
    # the hub's own (the database briefly away).
    JobSpec(DRAIN_JOB, drain_channel, max_tries=3, timeout_seconds=120),
    JobSpec(RECHECK_JOB, recheck_drifts, max_tries=2, timeout_seconds=120),
    JobSpec(
        SWEEP_OUTBOX_JOB,
        sweep_outbox,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=OUTBOX_SWEEP_SECONDS,
    ),
    JobSpec(RECONCILE_JOB, reconcile_channel, max_tries=2, timeout_seconds=600),
    JobSpec(
        RECONCILE_ALL_JOB, reconcile_channels, max_tries=1, timeout_seconds=60, every_seconds=60
    ),
    JobSpec(ALLOCATE_JOB, allocate_order, max_tries=3, timeout_seconds=120),
    JobSpec(
        ALLOCATE_OPEN_JOB,
        allocate_open_orders,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=ALLOCATION_SWEEP_SECONDS,
    ),
    JobSpec(BACKORDER_JOB, fill_backorders, max_tries=3, timeout_seconds=120),
    JobSpec(
        BACKORDER_SWEEP_JOB,
        sweep_backorders,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=BACKORDER_SWEEP_SECONDS,
    ),
    JobSpec(
        CONFLICT_AGE_JOB,
        alert_aged_conflicts,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=CONFLICT_AGE_SECONDS,
    ),
    JobSpec(PULL_JOB, pull_orders, max_tries=2, timeout_seconds=300),
    JobSpec(PULL_ALL_JOB, pull_all_orders, max_tries=1, timeout_seconds=60, every_seconds=60),
    # A run that fails records it on the event; the sweep retries it (a job retry covers only
    # the hub's own failures, e.g. the database briefly away).
    JobSpec(PROCESS_INBOX_JOB, process_inbox, max_tries=3, timeout_seconds=60),
    JobSpec(PROCESS_INBOX_MANY_JOB, process_inbox_many, max_tries=3, timeout_seconds=120),
    JobSpec(
        RETRY_INBOX_JOB,
        retry_inbox,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=INBOX_SWEEP_SECONDS,
    ),
    # Orders not matched are the record that matching is due: the next run takes them.
    JobSpec(
        MATCH_CUSTOMERS_JOB,
        match_customers,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=CUSTOMER_MATCH_SECONDS,
    ),
    # Failed deliveries are retried by the requests' own schedule (a job retry covers only
    # the hub's own failures).
    JobSpec(
        DELIVER_REQUESTS_JOB,
        deliver_fulfilment_requests,
        max_tries=2,
        timeout_seconds=120,
        every_seconds=DELIVERY_SWEEP_SECONDS,
    ),
    JobSpec(
        READ_QUEUES_JOB,
        read_notification_queues,
        max_tries=1,
        timeout_seconds=60,
        every_seconds=QUEUE_READ_SECONDS,
    ),
    JobSpec(
        READ_MANAGED_STOCK_JOB,
        read_channels_managed_stock,
        max_tries=1,
        timeout_seconds=240,
        every_seconds=MANAGED_STOCK_SECONDS,
    ),
    JobSpec(
        READ_VIEWS_JOB,
        read_channel_views,
        max_tries=1,
        timeout_seconds=300,
        every_seconds=VIEWS_CHECK_SECONDS,
    ),
    JobSpec(
        COMPACT_ROLLUP_JOB,
        compact_sales_rollup,
        max_tries=1,
        timeout_seconds=120,
        every_seconds=ROLLUP_COMPACTION_SECONDS,
    ),
]
