"""Analytics jobs: read the listing views channels report, for the conversion report; fold
the sales rollup's appended rows."""

from __future__ import annotations

from datetime import timedelta

from adapters.logging import get_logger
from domain.analytics.rollup import compact_rollup
from domain.analytics.views import read_views
from domain.channels.port import ChannelFailure
from domain.jobs import JobContext
from domain.sync.read_log import READ_VIEWS, log_failed_read

log = get_logger(__name__)

# A channel's views are read again once those stored are this old (eBay's Analytics API
# allows few calls a day; its figures are updated about daily). Shopify's ShopifyQL costs one
# call a day read, for every product at once; MercadoLibre's visits one call a day read per
# 50 items; Amazon's one report a day read. The days read are today and those its port says
# may still change (`views_look_back_days`: Amazon and MercadoLibre 3, the others 2).
READ_EVERY = timedelta(hours=1)


async def read_channel_views(ctx: JobContext) -> int:
    """Today's views so far and those of the days before it still settling, of every channel
    that reports them and was not read within the hour; a channel that fails is logged (in
    its sync log too, as any failed call) and read again at the next run."""
    now = ctx["relay"].clock()  # the relay's clock: the suite's, under test
    async with ctx["uow"](readonly=True) as uow:
        channels = await uow.channels.all()
        last = {c.id: await uow.sales.views_read_at(c.id) for c in channels}
    stored = 0
    for channel in channels:
        read_at = last[channel.id]
        if read_at is not None and now - read_at < READ_EVERY:
            continue
        try:
            stored += await read_views(
                ctx["uow"], ctx["relay"].connector, channel.id, now.date(), now
            )
        except ChannelFailure as failure:
            log.warning("views.read_failed", channel=str(channel.id), error=failure.message)
            await log_failed_read(ctx["uow"], channel.id, failure, now, operation=READ_VIEWS)
    return stored


async def compact_sales_rollup(ctx: JobContext) -> int:
    """Fold the rows order changes appended to the sales rollup (idempotent: a run with
    nothing appended folds nothing; runs at once are safe)."""
    return await compact_rollup(ctx["uow"])
