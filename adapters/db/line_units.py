"""An order line's units by fate, as SQL expressions: what reports and lifetime values sum.

A line's units were kept by the buyer unless they came back (a returned line: all of them) or
never left (a cancelled line: all but those that had shipped before the cancellation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from adapters.db.tables import order_lines

_lines = order_lines.c


def cancelled_units() -> Any:
    return case((_lines.status == "cancelled", _lines.quantity - _lines.shipped_quantity), else_=0)


def returned_units() -> Any:
    return case((_lines.status == "returned", _lines.quantity), else_=0)


def kept_units() -> Any:
    return case(
        (_lines.status == "cancelled", _lines.shipped_quantity),
        (_lines.status == "returned", 0),
        else_=_lines.quantity,
    )
