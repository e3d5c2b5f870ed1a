"""The largest numbers Nexo stores: what its columns hold, checked before a write meets them.

Quantities (levels, their totals, movements) are 32-bit integer columns; money is minor
units in 64-bit columns, but a price is also multiplied (by quantities, rates, markups)
and summed (order totals), so one amount is held to far less than the column's range.
"""

from __future__ import annotations

MAX_UNITS = 2**31 - 1
# A trillion minor units (ten billion in a two-decimal currency): times the largest
# quantity it still fits a 64-bit column.
MAX_AMOUNT_MINOR = 10**12
