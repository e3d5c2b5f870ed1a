"""Detail page views from the Reports API's GET_SALES_AND_TRAFFIC_REPORT (Reports 2021-06-30).

Amazon counts `pageViews` (and `sessions`) of each SKU's detail page in the sales and traffic
report. The steps: `createReport {reportType, reportOptions, dataStartTime, dataEndTime,
marketplaceIds}` → 202 `{reportId}`; `getReport` polled until its processingStatus is DONE
(CANCELLED: Amazon had nothing to report, so every SKU had 0 views; FATAL: it failed);
`getReportDocument` of its reportDocumentId → a pre-signed URL (GZIP when
`compressionAlgorithm` says so) to a JSON document.

The options: `dateGranularity` DAY with `asinGranularity` SKU. `salesAndTrafficByAsin` sums
the report's whole date range per SKU whatever the date granularity (that only shapes
`salesAndTrafficByDate`, which is per day but for the whole account), so a figure per SKU and
day takes one report per day: the hub asks each UTC day by itself, `dataStartTime` and
`dataEndTime` on that day. createReport is allowed one call a minute after a burst of 15, so
reading four days a run (today and the 3 still settling) costs four of them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any, Final

import httpx

from adapters.channels.amazon.client import AmazonClient
from domain.channels.port import ChannelUnavailable

PATH: Final = "/reports/2021-06-30"
REPORT_TYPE: Final = "GET_SALES_AND_TRAFFIC_REPORT"
OPTIONS: Final = {"dateGranularity": "DAY", "asinGranularity": "SKU"}
# Amazon builds this report in minutes: polled every 5 s for up to 10 min (getReport: 2 a
# second), then the run fails and the next one asks again.
REPORT_POLLS: Final = (5.0,) * 120


class ReportReader:
    def __init__(
        self,
        client: AmazonClient,
        http: httpx.AsyncClient,
        marketplace_id: str,
        pause: Callable[[float], Awaitable[None]],
        polls: Sequence[float] = REPORT_POLLS,
    ):
        self._client = client
        self._http = http
        self._marketplace = marketplace_id
        self._pause = pause
        self._polls = polls

    async def read_views(self, refs: Mapping[str, Mapping[str, str]], day: date) -> dict[str, int]:
        """Page views on `day` of each SKU's own detail page (its seller SKU in its refs, else
        the hub's); 0 for a SKU the report does not name."""
        if not refs:
            return {}
        document = await self._report(day)
        viewed = page_views(document) if document is not None else {}
        return {sku: viewed.get(ids.get("sku") or sku, 0) for sku, ids in refs.items()}

    async def _report(self, day: date) -> Any:
        """The report document of `day`, parsed; None when Amazon cancelled it (no data)."""
        created = await self._client.call(
            "createReport", "POST", f"{PATH}/reports",
            body={"reportType": REPORT_TYPE, "reportOptions": dict(OPTIONS),
                  "dataStartTime": f"{day.isoformat()}T00:00:00Z",
                  "dataEndTime": f"{day.isoformat()}T23:59:59Z",
                  "marketplaceIds": [self._marketplace]},
            ok=(202,),
        )  # fmt: skip
        report_id = _field(created.body, "reportId")
        for wait in self._polls:
            await self._pause(wait)
            report = (
                await self._client.call("getReport", "GET", f"{PATH}/reports/{report_id}")
            ).body
            status = report.get("processingStatus") if isinstance(report, dict) else None
            if status == "CANCELLED":
                return None
            if status == "FATAL":
                raise ChannelUnavailable(f"Amazon could not build report {report_id} (FATAL)")
            if status == "DONE":
                return await self._document(_field(report, "reportDocumentId"))
        raise ChannelUnavailable(f"Amazon has not built report {report_id} yet")

    async def _document(self, document_id: str) -> Any:
        found = await self._client.call(
            "getReportDocument", "GET", f"{PATH}/documents/{document_id}"
        )
        url = _field(found.body, "url")
        try:
            response = await self._http.get(url, timeout=30)  # pre-signed: no token, no limit
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"report document download failed: {error!r}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"report document download answered {response.status_code}")
        raw = response.content
        try:
            if found.body.get("compressionAlgorithm") == "GZIP":
                raw = gzip.decompress(raw)
            return json.loads(raw)
        except (OSError, EOFError, ValueError):
            raise ChannelUnavailable("Amazon's report document is not readable JSON") from None


def page_views(document: Any) -> dict[str, int]:
    """seller SKU -> pageViews, from a sales and traffic report by SKU."""
    rows = document.get("salesAndTrafficByAsin") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise ChannelUnavailable("Amazon's sales and traffic report has no salesAndTrafficByAsin")
    found: dict[str, int] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("sku"), str):
            continue
        views = (row.get("trafficByAsin") or {}).get("pageViews")
        if isinstance(views, int) and not isinstance(views, bool) and views >= 0:
            found[row["sku"]] = found.get(row["sku"], 0) + views
    return found


def _field(body: Any, name: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise ChannelUnavailable(f"Amazon's answer has no {name}")
    return value
