"""Quantities and prices on Amazon: PATCHed per SKU, or one JSON_LISTINGS_FEED for many.

A PATCH answered `ACCEPTED` is only queued; the figure is confirmed when Amazon shows it
applied: the SKU read back (searchListingsItems, 20 SKUs a call) with the value sent, or, for
a feed, the processing report's items. A SKU not yet applied after the reads is left
unanswered (the relay sends it again later); `INVALID` issues reject that SKU only.

Amazon has no compare-and-set on a quantity. Its equivalent here: when the hub knows the
figure it last confirmed (`previous`), the SKU is read first and a different figure is STALE
(PATCHes only: a feed sets its figures outright).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import quote

from adapters.channels.amazon.client import AmazonClient
from adapters.channels.amazon.feeds import FeedSender, fatal
from adapters.channels.amazon.mapping import API_PATH, number
from domain.channels.port import (
    ChannelRejected,
    KeyResult,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
)
from domain.errors import InvalidInput
from domain.money import Money

SEARCH_SIZE: Final = 20
Wanted = Callable[[Mapping[str, Any]], bool]


class Stock:
    def __init__(
        self,
        client: AmazonClient,
        feeds: FeedSender,
        *,
        marketplace_id: str,
        product_type: str,
        pause: Callable[[float], Awaitable[None]],
        waits: Sequence[float],
        feed_threshold: int,
    ):
        self._client = client
        self._feeds = feeds
        self._marketplace = marketplace_id
        self._product_type = product_type
        self._pause = pause
        self._waits = waits
        self._feed_threshold = feed_threshold

    # Reading ---------------------------------------------------------------------------------

    async def read(self, skus: Sequence[str], included: str) -> dict[str, dict[str, Any]]:
        """The listings items of `skus` that exist, by SKU."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(skus), SEARCH_SIZE):
            chunk = skus[start : start + SEARCH_SIZE]
            answer = await self._client.call(
                "searchListingsItems", "GET",
                f"{API_PATH}/{quote(self._client.seller_id, safe='')}",
                params={"marketplaceIds": self._marketplace, "identifiers": ",".join(chunk),
                        "identifiersType": "SKU", "includedData": included},
            )  # fmt: skip
            for item in answer.body.get("items") or ():
                if isinstance(item, dict) and item.get("sku") in chunk:
                    found[str(item["sku"])] = item
        return found

    async def applied(
        self, wanted: Mapping[str, Wanted], included: str
    ) -> dict[str, dict[str, Any]]:
        """Wait for Amazon to apply what was accepted: the SKUs whose item, read back, is as
        `wanted` says, after up to len(waits) reads."""
        pending, found = dict(wanted), {}
        for wait in self._waits:
            await self._pause(wait)
            shown = await self.read(sorted(pending), included)
            for sku, item in shown.items():
                if pending[sku](item):
                    found[sku] = item
                    del pending[sku]
            if not pending:
                break
        return found

    # Quantities ------------------------------------------------------------------------------

    async def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[KeyResult]:
        results: dict[str, KeyResult] = {}
        bulk = len(updates) >= self._feed_threshold
        # A feed sets figures outright: reading every SKU first (20 a call, 5 calls a second)
        # would cost more than the feed saves. Edits it overwrites unseen were reported by
        # LISTINGS_ITEM_MFN_QUANTITY_CHANGE, and reconciliation reads them back.
        guarded = [] if bulk else [u.sku for u in updates if u.previous is not None]
        if guarded:
            shown = await self.read(guarded, "fulfillmentAvailability")
            for update in updates:
                if update.previous is None:
                    continue
                now = quantity_of(shown.get(update.sku))
                if update.sku not in shown:
                    results[update.sku] = _rejected(update.sku, "not listed on Amazon")
                elif now != update.previous:
                    results[update.sku] = KeyResult(
                        update.sku, Outcome.STALE, f"Amazon shows {now}, not {update.previous}"
                    )
        sending = [u for u in updates if u.sku not in results]
        patches = {u.sku: [_quantity_patch(u.quantity)] for u in sending}
        if bulk:
            accepted, rejected = await self._by_feed(patches)
        else:
            accepted, rejected = await self._by_patch(patches)
        results.update(rejected)
        target = {u.sku: u.quantity for u in sending if u.sku in accepted}
        shown = accepted if bulk else await self.applied(
            {sku: _shows_quantity(q) for sku, q in target.items()}, "fulfillmentAvailability"
        )  # fmt: skip
        for sku, quantity in target.items():
            if sku in shown and quantity_of(shown[sku]) == quantity:
                results[sku] = KeyResult(sku, Outcome.CONFIRMED, confirmed_quantity=quantity)
        return [results[u.sku] for u in updates if u.sku in results]

    # Prices ----------------------------------------------------------------------------------

    async def push_prices(self, updates: Sequence[PriceUpdate]) -> list[KeyResult]:
        patches = {u.sku: self._price_patches(u) for u in updates}
        if len(updates) >= self._feed_threshold:
            accepted, results = await self._by_feed(patches)
            shown = accepted
        else:
            accepted, results = await self._by_patch(patches)
            wanted = {u.sku: _shows_price(u.price) for u in updates if u.sku in accepted}
            shown = await self.applied(wanted, "offers")
        for update in updates:
            price = price_of(shown.get(update.sku))
            if price is not None and price == update.price:
                results[update.sku] = KeyResult(
                    update.sku, Outcome.CONFIRMED, confirmed_price=price
                )
        return [results[u.sku] for u in updates if u.sku in results]

    def _price_patches(self, update: PriceUpdate) -> list[dict[str, Any]]:
        offer = {
            "marketplace_id": self._marketplace,
            "currency": update.price.currency,
            "audience": "ALL",
            "our_price": [{"schedule": [{"value_with_tax": number(update.price)}]}],
        }
        patches: list[dict[str, Any]] = [
            {"op": "replace", "path": "/attributes/purchasable_offer", "value": [offer]}
        ]
        if update.compare_at is not None:
            listed = {"marketplace_id": self._marketplace, "currency": update.compare_at.currency,
                      "value": number(update.compare_at)}  # fmt: skip
            patches.append({"op": "replace", "path": "/attributes/list_price", "value": [listed]})
        else:
            patches.append({"op": "delete", "path": "/attributes/list_price"})
        return patches

    # Sending ---------------------------------------------------------------------------------

    async def _by_patch(
        self, patches: Mapping[str, list[dict[str, Any]]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, KeyResult]]:
        """(accepted SKUs, rejected results): one patchListingsItem a SKU."""
        accepted: dict[str, dict[str, Any]] = {}
        rejected: dict[str, KeyResult] = {}
        for sku, ops in patches.items():
            answer = await self._client.call(
                "patchListingsItem", "PATCH", self._item_path(sku),
                params={"marketplaceIds": self._marketplace},
                body={"productType": self._product_type, "patches": ops}, ok=(200, 404),
            )  # fmt: skip
            if answer.status == 404:
                rejected[sku] = _rejected(sku, "not listed on Amazon")
            elif answer.body.get("status") == "INVALID":
                rejected[sku] = _rejected(sku, issues_text(answer.body.get("issues")))
            else:
                accepted[sku] = answer.body
        return accepted, rejected

    async def _by_feed(
        self, patches: Mapping[str, list[dict[str, Any]]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, KeyResult]]:
        """(the report's items of the accepted SKUs, rejected results): one JSON_LISTINGS_FEED.
        Its messages are in SKU order: the same figures make the same document (a relay
        taking over another's rows finds the feed it created, `FeedsInFlight`)."""
        skus = sorted(patches)
        document = {
            "header": {
                "sellerId": self._client.seller_id,
                "version": "2.0",
                "report": {"includedData": ["fulfillmentAvailability", "offers"],
                           "apiVersion": "2021-08-01"},
            },
            "messages": [
                {"messageId": n, "sku": sku, "operationType": "PATCH",
                 "productType": self._product_type, "patches": patches[sku]}
                for n, sku in enumerate(skus, start=1)
            ],
        }  # fmt: skip
        outcome = await self._feeds.send(
            "JSON_LISTINGS_FEED", "application/json; charset=UTF-8", json.dumps(document).encode()
        )
        if outcome.status != "DONE" or outcome.report is None:
            raise fatal(outcome)
        try:
            report = json.loads(outcome.report)
        except ValueError:
            raise ChannelRejected(f"feed {outcome.feed_id}: the report is not JSON") from None
        errors: dict[str, list[dict[str, Any]]] = {}
        for found in report.get("issues") or ():
            position = found.get("messageId")
            known = isinstance(position, int) and 1 <= position <= len(skus)
            if known and found.get("severity") == "ERROR":
                errors.setdefault(skus[position - 1], []).append(found)
        rejected = {sku: _rejected(sku, issues_text(found)) for sku, found in errors.items()}
        items = {
            str(item.get("sku")): item
            for item in report.get("items") or ()
            if isinstance(item, dict) and item.get("sku") not in errors
        }
        return items, rejected

    def _item_path(self, sku: str) -> str:
        return f"{API_PATH}/{quote(self._client.seller_id, safe='')}/{quote(sku, safe='')}"


def _quantity_patch(quantity: int) -> dict[str, Any]:
    return {
        "op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    }


def quantity_of(item: Mapping[str, Any] | None) -> int | None:
    for entry in (item or {}).get("fulfillmentAvailability") or ():
        if isinstance(entry, dict) and entry.get("fulfillmentChannelCode") == "DEFAULT":
            value = entry.get("quantity")
            return value if isinstance(value, int) else None
    return None


def price_of(item: Mapping[str, Any] | None) -> Money | None:
    for offer in (item or {}).get("offers") or ():
        price = offer.get("price") if isinstance(offer, dict) else None
        audience = (offer.get("audience") or {}).get("value", "ALL") if offer else "ALL"
        if not isinstance(price, dict) or audience != "ALL":
            continue
        try:
            return Money.parse(
                str(Decimal(str(price.get("amount")))), str(price.get("currencyCode"))
            )
        except (InvalidOperation, InvalidInput):
            return None
    return None


def _shows_quantity(quantity: int) -> Wanted:
    return lambda item: quantity_of(item) == quantity


def _shows_price(price: Money) -> Wanted:
    return lambda item: price_of(item) == price


def issues_text(issues: Any) -> str:
    """Amazon's issues as "attribute: message (code)", the errors first."""
    found = [i for i in issues or () if isinstance(i, dict)]
    found.sort(key=lambda i: i.get("severity") != "ERROR")
    parts = []
    for entry in found:
        names = entry.get("attributeNames") or (
            [entry["attributeName"]] if entry.get("attributeName") else []
        )
        where = ",".join(str(n) for n in names)
        text = f"{entry.get('message', 'refused')} ({entry.get('code', '?')})"
        parts.append(f"{where}: {text}" if where else text)
    return "; ".join(parts)[:2000] or "refused"


def _rejected(sku: str, message: str) -> KeyResult:
    return KeyResult(sku, Outcome.REJECTED, message)
