"""Every background job Nexo runs, under arq or in-process alike."""

from __future__ import annotations

from domain.jobs import JobSpec
from workers.jobs.inbox import process_inbox, process_inbox_many, retry_inbox
from workers.jobs.inventory import expire_reservations
from workers.jobs.orders import allocate_open_orders, allocate_order, pull_all_orders, pull_orders
from workers.jobs.sync import drain_channel, reconcile_channel, reconcile_channels, sweep_outbox

# An expired reservation stops counting against availability within this many seconds.
EXPIRY_SWEEP_SECONDS = 5
# Retries coming due and lost run requests are picked up within this many seconds.
OUTBOX_SWEEP_SECONDS = 5
# Inbound events whose run request was lost, and failed ones, are retried this often.
INBOX_SWEEP_SECONDS = 30

JOBS: list[JobSpec] = [
    JobSpec(
        expire_reservations, max_tries=3, timeout_seconds=60, every_seconds=EXPIRY_SWEEP_SECONDS
    ),
    # The relay handles channel failures itself (outbox retries); a job retry covers only
    # the hub's own (the database briefly away).
    JobSpec(drain_channel, max_tries=3, timeout_seconds=120),
    JobSpec(sweep_outbox, max_tries=1, timeout_seconds=60, every_seconds=OUTBOX_SWEEP_SECONDS),
    JobSpec(reconcile_channel, max_tries=2, timeout_seconds=600),
    JobSpec(reconcile_channels, max_tries=1, timeout_seconds=60, every_seconds=60),
    JobSpec(allocate_order, max_tries=3, timeout_seconds=120),
    JobSpec(allocate_open_orders, max_tries=1, timeout_seconds=60, every_seconds=30),
    JobSpec(pull_orders, max_tries=2, timeout_seconds=300),
    JobSpec(pull_all_orders, max_tries=1, timeout_seconds=60, every_seconds=60),
    # A run that fails records it on the event; the sweep retries it (a job retry covers only
    # the hub's own failures, e.g. the database briefly away).
    JobSpec(process_inbox, max_tries=3, timeout_seconds=60),
    JobSpec(process_inbox_many, max_tries=3, timeout_seconds=120),
    JobSpec(retry_inbox, max_tries=1, timeout_seconds=60, every_seconds=INBOX_SWEEP_SECONDS),
]
