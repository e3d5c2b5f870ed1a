"""Domain events: facts that happened, published to the bus after their transaction commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: Mapping[str, Any] = field(default_factory=dict)
