"""Every background job Nexo runs, under arq or in-process alike."""

from __future__ import annotations

from domain.jobs import JobSpec
from workers.jobs.inventory import expire_reservations

# An expired reservation stops counting against availability within this many seconds.
EXPIRY_SWEEP_SECONDS = 5

JOBS: list[JobSpec] = [
    JobSpec(
        expire_reservations, max_tries=3, timeout_seconds=60, every_seconds=EXPIRY_SWEEP_SECONDS
    ),
]
