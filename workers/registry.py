"""Every background job Nexo runs, under arq or in-process alike."""

from __future__ import annotations

from domain.jobs import JobSpec
from workers.jobs.inventory import expire_reservations
from workers.jobs.sync import drain_channel, sweep_outbox

# An expired reservation stops counting against availability within this many seconds.
EXPIRY_SWEEP_SECONDS = 5
# Retries coming due and lost run requests are picked up within this many seconds.
OUTBOX_SWEEP_SECONDS = 5

JOBS: list[JobSpec] = [
    JobSpec(
        expire_reservations, max_tries=3, timeout_seconds=60, every_seconds=EXPIRY_SWEEP_SECONDS
    ),
    # The relay handles channel failures itself (outbox retries); a job retry covers only
    # the hub's own (the database briefly away).
    JobSpec(drain_channel, max_tries=3, timeout_seconds=120),
    JobSpec(sweep_outbox, max_tries=1, timeout_seconds=60, every_seconds=OUTBOX_SWEEP_SECONDS),
]
