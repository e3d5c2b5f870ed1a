"""Amazon through the hub, as the contract suite drives it, for what only Amazon has."""

from __future__ import annotations

import pytest

from tests.contract.conftest import hub, settings

__all__ = ["hub", "settings"]


@pytest.fixture
def kind() -> str:
    return "amazon"
