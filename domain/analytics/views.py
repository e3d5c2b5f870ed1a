"""Reading the views channels report: per channel, SKU and day, as the channel counts them.

A channel whose port reports views (`ListingViews`: eBay's traffic report, Shopify's
ShopifyQL products.view_sessions, MercadoLibre's item visits, Amazon's sales and traffic
report) is asked for today and each of the days before it that the port says it may still
change (`views_look_back_days`: a figure settled late is picked up by the next read), for
every SKU it lists; the figures replace what was stored for that day (a day re-read while it
is still going on grows). Channels that report no views are left alone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from domain.channels.port import ChannelConnector, ListingViews
from domain.ports import UnitOfWorkFactory

PAGE = 500


async def read_views(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    channel_id: uuid.UUID,
    today: date,
    now: datetime,
) -> int:
    """Read and store the channel's views of `today` and of the days before it its figures may
    still change on; how many (SKU, day) figures were stored."""
    async with uows(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
    if channel is None or config is None or not config.sync_enabled:
        return 0
    port = connector.connect(channel, config, sealed)
    if not isinstance(port, ListingViews):
        return 0
    refs = await _listed_refs(uows, channel_id)
    back = max(port.views_look_back_days, 0)
    stored = 0
    for day in (today - timedelta(days=n) for n in range(back, -1, -1)):
        views = await port.read_views(refs, day) if refs else {}
        async with uows() as uow:
            await uow.sales.record_views(channel_id, day, views, now)
            await uow.commit()
        stored += len(views)
    return stored


async def _listed_refs(uows: UnitOfWorkFactory, channel_id: uuid.UUID) -> dict[str, dict[str, str]]:
    """The channel's ids of every SKU it lists, with its listing's (`listing_id`) where the
    SKU's own lack it (Shopify keeps the product gid on the listing, not per variant)."""
    found: dict[str, dict[str, str]] = {}
    after: str | None = None
    async with uows(readonly=True) as uow:
        while True:
            page = await uow.listings.listed_items(channel_id, after_sku=after, first=PAGE)
            found.update(
                {
                    item.sku: {**_listing_ref(listing.external_id), **item.refs}
                    for listing, item in page
                    if item.refs
                }
            )
            if len(page) < PAGE:
                return found
            after = page[-1][1].sku


def _listing_ref(external_id: str | None) -> dict[str, str]:
    return {"listing_id": external_id} if external_id else {}
