"""Connecting an Amazon channel: its credentials and settings into an `AmazonChannel`.

Credentials (sealed at rest): the LWA app's `client_id` and `client_secret`, the seller's
`refresh_token` (from authorising the app), and `queue_url`, the SQS queue its notifications
go to, with the AWS keys that may read it (`aws_access_key_id`, `aws_secret_access_key`,
optionally `aws_session_token` for temporary keys, and `aws_region` when the queue's URL does
not name it: requests to SQS are signed with Signature V4). `api_url`, `token_url` (and
`queue_endpoint`) only point the channel at a local sandbox. The listing rule's settings
name the `sellerId`, `marketplaceId` and `productType` (also what its listing bodies need,
see `mapping`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import httpx

from adapters.channel_kit.descriptor import PortFactory
from adapters.channel_kit.feeds import FeedsInFlight, MemoryFeedsInFlight
from adapters.channel_kit.queues import NotificationQueue, QueueFactory
from adapters.channel_kit.sigv4 import AwsCredentials
from adapters.channel_kit.tokens import TokenStore
from adapters.channels.amazon.adapter import (
    FEED_POLLS,
    FEED_THRESHOLD,
    MAX_FEED_MESSAGES,
    AmazonChannel,
)
from adapters.channels.amazon.client import API_URL, LWA_URL, AmazonClient, Credentials
from adapters.channels.amazon.feeds import FeedSender
from adapters.channels.amazon.notifications import SqsQueue
from adapters.channels.amazon.views import ReportReader
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.port import ChannelMisconfigured, ChannelPort
from domain.sync.rate_limits import RateLimiter

REQUIRED_CREDENTIALS = ("client_id", "client_secret", "refresh_token")
REQUIRED_SETTINGS = ("sellerId", "marketplaceId", "productType")


def amazon_factory(
    http: httpx.AsyncClient,
    limiter: RateLimiter,
    tokens: TokenStore,
    *,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    feed_threshold: int = FEED_THRESHOLD,
    feed_size: int = MAX_FEED_MESSAGES,
    feeds_in_flight: FeedsInFlight | None = None,
) -> PortFactory:
    """`pause` is how the port waits for Amazon to apply what it accepted (a test skips the
    time instead); `clock` is its idea of now (the first pull's window, shipment dates);
    `feeds_in_flight` remembers the feeds created and not yet read, for every process."""
    in_flight = feeds_in_flight or MemoryFeedsInFlight()

    def connect(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> ChannelPort:
        missing = [name for name in REQUIRED_CREDENTIALS if not credentials.get(name)]
        if missing:
            raise ChannelMisconfigured(
                f"{channel.name}: Amazon needs {', '.join(missing)} credentials"
            )
        settings = config.listing_rule.settings
        client = AmazonClient(
            channel.id,
            Credentials(
                seller_id=settings.get("sellerId", ""),
                client_id=credentials["client_id"],
                client_secret=credentials["client_secret"],
                refresh_token=credentials["refresh_token"],
                api_url=credentials.get("api_url") or API_URL,
                token_url=credentials.get("token_url") or LWA_URL,
            ),
            http=http, limiter=limiter, tokens=tokens, clock=clock,
        )  # fmt: skip
        marketplace = settings.get("marketplaceId", "")
        feeds = FeedSender(client, http, marketplace, pause, FEED_POLLS, in_flight)
        reports = ReportReader(client, http, marketplace, pause)
        return AmazonChannel(
            client, feeds, reports, marketplace_id=marketplace,
            product_type=settings.get("productType", ""), pause=pause,
            feed_threshold=feed_threshold, feed_size=feed_size,
        )  # fmt: skip

    return connect


AWS_CREDENTIALS = ("aws_access_key_id", "aws_secret_access_key")
# https://sqs.us-east-1.amazonaws.com/123456789012/queue names its region.
SQS_HOST = re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com$")


def queue_factory(
    http: httpx.AsyncClient, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> QueueFactory:
    def queue(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> NotificationQueue | None:
        url = credentials.get("queue_url")
        if not url:
            return None
        missing = [name for name in AWS_CREDENTIALS if not credentials.get(name)]
        if missing:
            raise ChannelMisconfigured(
                f"{channel.name}: reading the SQS queue needs {', '.join(missing)} credentials"
            )
        found = SQS_HOST.match(httpx.URL(url).host)
        region = credentials.get("aws_region") or (found.group(1) if found else "")
        if not region:
            raise ChannelMisconfigured(f"{channel.name}: set aws_region for the SQS queue")
        aws = AwsCredentials(
            credentials["aws_access_key_id"], credentials["aws_secret_access_key"], region, "sqs",
            session_token=credentials.get("aws_session_token") or None,
        )  # fmt: skip
        return SqsQueue(http, url, aws, endpoint=credentials.get("queue_endpoint"), clock=clock)

    return queue


def setup_problem(config: ChannelConfig) -> str | None:
    """Every call names the seller and the marketplace; listings their product type."""
    missing = [n for n in REQUIRED_SETTINGS if not config.listing_rule.settings.get(n)]
    if missing:
        return f"set the Amazon {', '.join(missing)} in the listing rule's settings"
    return None
