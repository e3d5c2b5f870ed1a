"""The marketplaces beside the shop: Amazon, eBay and MercadoLibre, each its sandbox as a
process, and what the harness does to each from outside their APIs.

Each answers the same few questions in its own sandbox's words: what a buyer can buy of each
SKU now, a buyer checking out (the order id Nexo will know it by), which orders it holds, and
how Nexo is wired to it (credentials, listing settings, where its notifications go): as the
demo wires it (sandbox/demo/marketplaces.py), with the credentials each sandbox accepts by
default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.demo.marketplaces import CHANNEL_CATEGORY, CREDENTIALS, SETTINGS

KINDS = ("amazon", "ebay", "mercadolibre")
AMAZON_APPLY_DELAY = 0.5  # seconds before an accepted listing change shows (1.0 by default)

NAMES = {"amazon": "Amazon", "ebay": "eBay", "mercadolibre": "MercadoLibre"}


def argv_options(kind: str) -> list[str]:
    """What `python -m sandbox KIND` is given besides its address."""
    return ["--apply-delay", str(AMAZON_APPLY_DELAY)] if kind == "amazon" else []


def ready_path(kind: str) -> str:
    return "/_sandbox/stats" if kind == "amazon" else "/_sandbox/state"


@dataclass
class Marketplace:
    """One marketplace sandbox (a process) and the channel Nexo keeps for it."""

    kind: str
    url: str
    http: httpx.AsyncClient
    channel: str = ""
    up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def credentials(self) -> dict[str, str]:
        given = {k: v.replace("{url}", self.url) for k, v in CREDENTIALS[self.kind].items()}
        return {**given, "api_url": self.url}

    @property
    def settings(self) -> dict[str, str]:
        return dict(SETTINGS[self.kind])

    @property
    def category(self) -> str | None:
        return CHANNEL_CATEGORY.get(self.kind)

    async def subscribe(self, endpoint: str) -> None:
        """Where its notifications go (Amazon's wait in its queue for Nexo to read them)."""
        if self.kind != "amazon":
            answer = await self.http.post("/_sandbox/subscribe", json={"endpoint": endpoint})
            answer.raise_for_status()

    async def faults(self, setting: dict[str, float]) -> dict[str, Any]:
        """Set faults (none: `{}`); the sandbox's faults now, and the notifications it has
        dropped and duplicated so far."""
        answer = await self.http.post("/_sandbox/faults", json=setting)
        answer.raise_for_status()
        return dict(answer.json())

    async def shows(self, skus: Iterable[str]) -> dict[str, int | None]:
        """What a buyer can buy of each SKU now (None: not listed)."""
        if self.kind == "amazon":
            answer = await self.http.get("/_sandbox/listings")
            answer.raise_for_status()
            shown: dict[str, Any] = answer.json()
        else:
            answer = await self.http.get("/_sandbox/state")
            answer.raise_for_status()
            shown = answer.json()["items" if self.kind == "ebay" else "offered"]
        return {sku: shown.get(sku) for sku in skus}

    async def place(self, lines: list[list[Any]]) -> tuple[str | None, str | None]:
        """A buyer checks out: (the order id Nexo knows it by, or None; why not)."""
        answer = await self.http.post("/_sandbox/orders", json={"lines": lines})
        if answer.status_code not in (200, 201):
            return None, answer.text[:200]
        body = answer.json()
        # MercadoLibre: a cart of several orders is one pack, one order in Nexo.
        external = body["orderId"] if self.kind != "mercadolibre" else body["sale"]
        return str(external), None

    async def orders(self, known: Iterable[str]) -> list[str]:
        """Every order it holds. The Amazon sandbox lists none: each of `known` is asked for."""
        if self.kind == "amazon":
            held = []
            for order_id in known:
                if (await self.http.get(f"/_sandbox/orders/{order_id}")).status_code == 200:
                    held.append(order_id)
            return held
        answer = await self.http.get("/_sandbox/state")
        answer.raise_for_status()
        found = answer.json()["orders"]
        if self.kind == "ebay":
            return [str(o["orderId"]) for o in found]
        return sorted({str(o["pack_id"] or o["id"]) for o in found})

    async def fulfilled(self, known: Iterable[str]) -> dict[str, list[str]]:
        """The tracking numbers each of its orders was told (order id -> numbers)."""
        if self.kind == "amazon":
            told: dict[str, list[str]] = {}
            for order_id in known:
                answer = await self.http.get(f"/_sandbox/orders/{order_id}")
                if answer.status_code == 200:
                    told[order_id] = [p["tracking"] for p in answer.json()["packages"]]
            return told
        answer = await self.http.get("/_sandbox/state")
        answer.raise_for_status()
        state = answer.json()
        if self.kind == "ebay":
            return {
                order_id: [f["shipmentTrackingNumber"] for f in shipped]
                for order_id, shipped in state["fulfillments"].items()
            }
        told = {}
        for order in state["orders"]:  # a pack's orders: one sale, the parcels of each
            parcels = state["parcels"].get(str((order.get("shipping") or {}).get("id")), [])
            told.setdefault(str(order["pack_id"] or order["id"]), []).extend(parcels)
        return told
