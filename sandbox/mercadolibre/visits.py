"""Item visits, as MercadoLibre's Visits resource answers them (developers.mercadolibre.com.ar,
"Visits"): per item and UTC day, unique per day.

- `GET /items/visits/time_window?ids=ID1,ID2&last={n}&unit=day` (`ending` optional, now by
  default): a list, one entry per item, `{"item_id", "date_from", "date_to",
  "total_visits", "last", "unit", "results": [{"date": "2026-12-06T00:00:00Z", "total",
  "visits_detail": [{"company": "mercadolibre", "quantity"}]}]}`, the `last` days up to
  `ending`'s, oldest first; `last` from 1 to 150, `unit` day only.
- `GET /visits/items?ids=ID1,ID2&date_from=&date_to=`: `{"ID1": 34, ...}`, the visits of the
  days from `date_from`'s to `date_to`'s (both ends counted).

Up to `PER_CALL` ids a call (MercadoLibre documents none); an id the store never had is a
404 for the call. Tests record visits with `record` (or `POST /_sandbox/visits`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Final

from sandbox.mercadolibre.errors import bad_request, not_found
from sandbox.mercadolibre.items import Store

PER_CALL: Final = 50
MOST_DAYS: Final = 150


class Visits:
    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now
        self.counts: dict[tuple[str, date], int] = {}

    def record(self, sku: str, visits: int, day: date | None = None) -> str:
        """Buyers open the page of the item selling `sku` `visits` times on `day` (today by
        default); the item's id (a classic item's visits are every variation's)."""
        listed = self.store.listed(sku)
        if not listed or visits < 0:
            raise ValueError(f"no active item sells {sku!r}" if not listed else "visits >= 0")
        item_id = str(listed[0][0]["id"])
        key = (item_id, day or self.now().date())
        self.counts[key] = self.counts.get(key, 0) + visits
        return item_id

    def time_window(self, q: dict[str, str]) -> list[dict[str, Any]]:
        ids = self._ids(q)
        if q.get("unit") != "day":
            raise bad_request("unit: the only unit is day")
        try:
            last = int(q.get("last", ""))
            ending = _day(q["ending"]) if q.get("ending") else self.now().date()
        except ValueError:
            raise bad_request("last is a number of days; ending an ISO date") from None
        if not 1 <= last <= MOST_DAYS:
            raise bad_request(f"last: from 1 to {MOST_DAYS} days")
        days = [ending - timedelta(days=back) for back in range(last - 1, -1, -1)]
        return [self._window(item_id, days) for item_id in ids]

    def totals(self, q: dict[str, str]) -> dict[str, int]:
        ids = self._ids(q)
        try:
            start, end = _day(q["date_from"]), _day(q["date_to"])
        except (KeyError, ValueError):
            raise bad_request("date_from and date_to are ISO dates") from None
        if end < start or (end - start).days >= MOST_DAYS:
            raise bad_request(f"date_to from date_from to {MOST_DAYS} days after it")
        return {
            item_id: sum(
                n for (i, d), n in self.counts.items() if i == item_id and start <= d <= end
            )
            for item_id in ids
        }

    def _window(self, item_id: str, days: list[date]) -> dict[str, Any]:
        results = [
            {
                "date": f"{day.isoformat()}T00:00:00Z",
                "total": (n := self.counts.get((item_id, day), 0)),
                "visits_detail": [{"company": "mercadolibre", "quantity": n}],
            }
            for day in days
        ]
        return {
            "item_id": item_id,
            "date_from": results[0]["date"],
            "date_to": f"{(days[-1] + timedelta(days=1)).isoformat()}T00:00:00Z",
            "total_visits": sum(r["total"] for r in results),
            "last": len(days),
            "unit": "day",
            "results": results,
        }

    def _ids(self, q: dict[str, str]) -> list[str]:
        ids = [i for i in (q.get("ids") or "").split(",") if i]
        if not ids or len(ids) > PER_CALL:
            raise bad_request(f"ids: from 1 to {PER_CALL} item ids")
        for item_id in ids:
            if item_id not in self.store.items:
                raise not_found(f"Item {item_id}")
        return ids


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])
