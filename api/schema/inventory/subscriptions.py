"""Live inventory: stock changes and alerts, straight from the event bus.

Payloads are built before publishing (no database access per event here); a subscriber
that falls behind is disconnected by the bus and re-queries on reconnect.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from api.schema.context import Info
from api.schema.inventory.types import Alert, AlertKind, ChannelQuantity, StockChange
from domain.inventory.alerts import AlertKind as DomainAlertKind
from domain.inventory.events import ALERT_TOPIC, STOCK_TOPIC


@strawberry.type
class InventorySubscription:
    @strawberry.subscription(description="Stock level changes, optionally only for some SKUs.")
    async def stock_changed(
        self, info: Info, skus: list[str] | None = None
    ) -> AsyncGenerator[StockChange, None]:
        wanted = set(skus) if skus else None
        async with info.context.container.bus.subscribe(STOCK_TOPIC) as events:
            async for event in events:
                if wanted is not None and event["sku"] not in wanted:
                    continue
                yield StockChange(
                    sku=event["sku"],
                    location_id=strawberry.ID(event["locationId"]),
                    location_code=event.get("locationCode"),
                    on_hand=event["onHand"],
                    reserved=event["reserved"],
                    available=event["available"],
                    version=event["version"],
                    reason=event["reason"],
                    changed_at=datetime.fromisoformat(event["changedAt"]),
                    channels=[
                        ChannelQuantity(
                            channel_id=strawberry.ID(c["channelId"]),
                            name=c["name"],
                            quantity=c["quantity"],
                        )
                        for c in event.get("channels", [])
                    ],
                )

    @strawberry.subscription(description="LOW_STOCK, OUT_OF_STOCK and BACK_IN_STOCK as raised.")
    async def inventory_alerts(self, info: Info) -> AsyncGenerator[Alert, None]:
        async with info.context.container.bus.subscribe(ALERT_TOPIC) as events:
            async for event in events:
                kind: AlertKind = DomainAlertKind(event["kind"])
                yield Alert(
                    id=strawberry.ID(event["id"]),
                    kind=kind,
                    sku=event["sku"],
                    available=event["available"],
                    threshold=event["threshold"],
                    created_at=datetime.fromisoformat(event["createdAt"]),
                    acknowledged_at=None,
                    acknowledged_by=None,
                    channel_id=event.get("channelId"),
                    message=event.get("message"),
                )
