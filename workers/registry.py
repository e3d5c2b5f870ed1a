"""Every background job Nexo runs, under arq or in-process alike."""

from __future__ import annotations

from domain.jobs import JobSpec

JOBS: list[JobSpec] = []
