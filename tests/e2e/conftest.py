"""End-to-end tests share the pytest-xdist workers with the rest of the suite.

A module's tests share processes started once per module (a hub, a sandbox), so each module
is one xdist group: its tests run on one worker, one after the other, and the processes are
started once. Modules that assert a latency or drive faults across processes are marked
`solo` and run after the rest, alone on the machine (`make test`).
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
