"""The Amazon adapter's views against the Amazon sandbox in-process: one sales and traffic
report of the day asked (DAY x SKU), each SKU its own page views; a report Amazon cancels
(nothing to report) is 0 views; one not built in time, or a document without its rows, is a
failure to retry, not 0 views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from adapters.channel_kit.tokens import Grant, Refresh
from adapters.channels.amazon.adapter import AmazonChannel
from adapters.channels.amazon.client import OPERATIONS, AmazonClient, Credentials
from adapters.channels.amazon.feeds import FeedPolls, FeedSender
from adapters.channels.amazon.views import ReportReader, page_views
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels.port import ChannelUnavailable, ListingViews
from sandbox.amazon import AmazonSandbox
from workers.jobs.analytics import READ_EVERY

API = "https://sellingpartnerapi-na.amazon.com"
SELLER, MARKETPLACE = "A2SANDBOXSELLER1", "ATVPDKIKX0DER"
REFS = {"MUG": {"sku": "MUG"}, "TEE-S": {"sku": "TEE-S"}, "TEE-M": {"sku": "TEE-M"}}


@dataclass
class Time:
    now: float = 1_800_000_000.0  # 2027-01-15 08:00 UTC
    paused: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        self.paused.append(seconds)
        self.now += seconds


class Tokens:
    """One token, kept in memory (the store's sharing is not what is tested here)."""

    def __init__(self) -> None:
        self.grant: Grant | None = None

    async def access_token(self, channel_id: uuid.UUID, refresh: Refresh) -> str:
        if self.grant is None:
            self.grant = await refresh(None)
        return self.grant.access_token

    async def expire(self, channel_id: uuid.UUID, access_token: str) -> None:
        self.grant = None


def _channel(
    time: Time, polls: tuple[float, ...] = (5.0,) * 10
) -> tuple[AmazonChannel, AmazonSandbox]:
    sandbox = AmazonSandbox(seller_id=SELLER, marketplace_id=MARKETPLACE, clock=time)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.app), base_url=API)
    credentials = Credentials(
        seller_id=SELLER, client_id="amzn1.application-oa2-client.sandbox",
        client_secret="sandbox-client-secret", refresh_token="Atzr|sandbox-refresh-token",
        api_url=API, token_url=f"{API}/auth/o2/token",
    )  # fmt: skip
    client = AmazonClient(
        uuid.uuid4(), credentials, http=http, limiter=MemoryRateLimiter(clock=time),
        tokens=Tokens(), clock=lambda: datetime.fromtimestamp(time(), UTC),
    )  # fmt: skip
    channel = AmazonChannel(
        client, FeedSender(client, http, MARKETPLACE, time.pause, FeedPolls(give_up=0)),
        ReportReader(client, http, MARKETPLACE, time.pause, polls),
        marketplace_id=MARKETPLACE, product_type="HOME", pause=time.pause,
    )  # fmt: skip
    return channel, sandbox


def _today(time: Time) -> date:
    return datetime.fromtimestamp(time(), UTC).date()


async def test_each_sku_gets_its_own_page_views_of_the_day_from_one_report() -> None:
    time = Time()
    channel, sandbox = _channel(time)
    day = _today(time) - timedelta(days=1)
    sandbox.view("TEE-S", 6, day)
    sandbox.view("MUG", 2, day)
    sandbox.view("MUG", 50, day - timedelta(days=1))  # the day before: another report's
    sandbox.view("OTHER", 9, day)  # a SKU the hub does not list

    assert isinstance(channel, ListingViews)
    viewed = await channel.read_views(REFS, day)

    assert viewed == {"MUG": 2, "TEE-S": 6, "TEE-M": 0}
    [report] = sandbox.seller.reports.reports.values()
    assert (report.first, report.last) == (day, day)
    assert report.options == {"dateGranularity": "DAY", "asinGranularity": "SKU"}
    assert [c["operation"] for c in sandbox.calls if c["operation"] != "getReport"] == [
        "createReport", "getReportDocument",
    ]  # fmt: skip
    assert sandbox.violations == []


async def test_a_report_amazon_cancels_for_want_of_data_is_no_views() -> None:
    time = Time()
    channel, sandbox = _channel(time)

    viewed = await channel.read_views(REFS, _today(time))

    assert viewed == {"MUG": 0, "TEE-S": 0, "TEE-M": 0}
    [report] = sandbox.seller.reports.reports.values()
    assert report.status == "CANCELLED"


async def test_a_report_not_built_after_the_polls_is_a_failure_to_retry() -> None:
    time = Time()
    channel, sandbox = _channel(time, polls=(1.0, 1.0))
    sandbox.view("MUG", 3, _today(time))

    with pytest.raises(ChannelUnavailable, match="has not built report"):
        await channel.read_views(REFS, _today(time))
    assert time.paused == [1.0, 1.0]


async def test_no_report_without_a_sku_to_ask_about() -> None:
    time = Time()
    channel, sandbox = _channel(time)

    assert await channel.read_views({}, _today(time)) == {}
    assert sandbox.calls == []


def test_a_document_without_its_rows_is_unreadable_and_odd_rows_are_left_out() -> None:
    with pytest.raises(ChannelUnavailable, match="salesAndTrafficByAsin"):
        page_views({"salesAndTrafficByDate": []})
    rows = [
        {"sku": "MUG", "trafficByAsin": {"pageViews": 4}},
        {"sku": "TEE", "trafficByAsin": {"pageViews": "4"}},
        {"sku": "NEG", "trafficByAsin": {"pageViews": -1}},
        {"childAsin": "B0X", "trafficByAsin": {"pageViews": 8}},
        "nonsense",
    ]
    assert page_views({"salesAndTrafficByAsin": rows}) == {"MUG": 4}


def test_a_views_read_fits_createreports_burst_and_an_hour_refills_it() -> None:
    """Each read asks one report a day (today and the days still settling), at most once an
    hour per channel: within createReport's and getReportDocument's burst (the client keeps
    one token back), and an hour's refill (1 a minute) more than covers it."""
    reports = AmazonChannel.views_look_back_days + 1
    for operation in ("createReport", "getReportDocument"):
        bucket = OPERATIONS[operation]
        assert reports <= bucket.capacity
        assert reports <= bucket.rate * READ_EVERY.total_seconds()
