"""The own web store as a channel: it reads Nexo's API, so there is nothing to call.

Its storefront queries `channelAvailability` and `channelPrice` and subscribes to changes;
what the hub intends is what the store shows the moment it is committed. Pushes are
therefore confirmed as sent, and the sync log still records them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import (
    Capability,
    ChannelLevel,
    ChannelLimits,
    ChannelRejected,
    InboundEvent,
    InboundIdentity,
    KeyResult,
    LineCancelNotice,
    ListingRefs,
    OrderPage,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)

# Listings, figures, shipments and cancellations the store reads from Nexo's API and events;
# its orders come through Nexo's checkout (placeOrder), not through this port.
CAPABILITIES: Final = frozenset(
    {
        Capability.LISTINGS,
        Capability.QUANTITIES,
        Capability.PRICES,
        Capability.FULFILMENT,
        Capability.CANCELLATION,
    }
)


class WebstoreChannel:
    limits = ChannelLimits(quantities_per_call=1000, prices_per_call=1000)
    capabilities = CAPABILITIES

    async def upsert_listing(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        return ListingRefs(draft.handle, {v.sku: {"sku": v.sku} for v in draft.variants})

    async def end_listing(self, refs: ListingRefs) -> None:
        return None

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        return [KeyResult(u.sku, Outcome.CONFIRMED, confirmed_quantity=u.quantity) for u in updates]

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        return [KeyResult(u.sku, Outcome.CONFIRMED, confirmed_price=u.price) for u in updates]

    async def read_levels(self, refs: Mapping[str, Mapping[str, str]]) -> list[ChannelLevel]:
        return []  # the store shows the hub's own numbers: nothing can drift

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        return OrderPage((), cursor)  # its orders arrive through placeOrder

    async def confirm_shipment(self, shipment: ShipmentNotice) -> str:
        return shipment.tracking_number  # the store hears it from the order events

    async def cancel_lines(self, notice: LineCancelNotice) -> None:
        # Nothing to call: the store hears it from `orderEvents` (kind line_cancelled),
        # published when the hub cancelled the line.
        return None

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False  # the store sends no webhooks

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        raise ChannelRejected("the web store sends no webhooks")
