"""Publishing a listing on eBay: inventory items, the group, offers, then publish.

An inventory item is replaced whole by each PUT, so sending only what the hub knows would
drop what the merchant or eBay put there (a condition description, an MPN, the item's
quantity). Each item is therefore read first and the hub's fields written over it: the
product's title, description, aspects, images, brand and GTINs, and the package, are the
hub's (present or removed as the hub says); everything else is kept, the quantity included
(it is the pushes' to set; a new item starts with the draft's).

Offers are found before they are made: by the id the hub stored, else by SKU (a create whose
answer was lost left one), else created; "Offer entity already exists" names the one to update.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from adapters.channels.ebay.client import INVENTORY, Answer, EbayClient
from adapters.channels.ebay.errors import describe, entries
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import ChannelRejected, ChannelUnavailable, ListingRefs

READ_ONLY: Final = frozenset({"sku", "locale", "groupIds", "inventoryItemGroupKeys"})
HUB_PRODUCT: Final = frozenset(
    {"title", "description", "aspects", "imageUrls", "brand", "upc", "ean"}
)
HUB_ITEM: Final = frozenset({"packageWeightAndSize"})
OFFER_KEYS: Final = frozenset({"sku", "marketplaceId", "format"})  # fixed once created


class Listings:
    def __init__(self, client: EbayClient) -> None:
        self._client = client

    async def upsert(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        marketplace = draft.settings.get("marketplaceId", "").strip()
        offers: dict[str, str] = {}
        listing_id: str | None = None
        for request in requests:
            path = request.path.removeprefix(INVENTORY)
            if path.startswith("/inventory_item/"):
                await self._put_item(path, dict(request.body))
            elif path.startswith("/inventory_item_group/"):
                await self._client.call("PUT", INVENTORY, path, body=dict(request.body),
                                        operation="createOrReplaceInventoryItemGroup")  # fmt: skip
            elif path == "/offer":
                sku = str(request.body["sku"])
                known_id = known.sku_ids.get(sku, {}).get("offer_id")
                offers[sku] = await self._offer(dict(request.body), marketplace, known_id)
            elif path == "/offer/publish_by_inventory_item_group":
                answer = await self._client.call(
                    "POST", INVENTORY, path, body=dict(request.body),
                    operation="publishOfferByInventoryItemGroup",
                )  # fmt: skip
                listing_id = _listing_id(answer)
        if not draft.options:
            for offer_id in offers.values():
                answer = await self._client.call(
                    "POST", INVENTORY, f"/offer/{quote(offer_id, safe='')}/publish",
                    operation="publishOffer",
                )  # fmt: skip
                listing_id = _listing_id(answer)
        if listing_id is None:
            raise ChannelUnavailable("eBay's publish answer named no listing")
        group = {"group_key": draft.handle} if draft.options else {}
        shared = {"listing_id": listing_id, "marketplace_id": marketplace, **group}
        refs = {sku: {"offer_id": offer_id, **shared} for sku, offer_id in offers.items()}
        return ListingRefs(listing_id, refs)

    async def end(self, refs: ListingRefs) -> None:
        """Withdraw the listing (its items and offers stay, unpublished, to list again)."""
        groups = {ids["group_key"] for ids in refs.sku_ids.values() if ids.get("group_key")}
        marketplace = next(
            (
                ids.get("marketplace_id")
                for ids in refs.sku_ids.values()
                if ids.get("marketplace_id")
            ),
            None,
        )
        for key in sorted(groups):
            body = {"inventoryItemGroupKey": key, "marketplaceId": marketplace or "EBAY_US"}
            await self._client.call("POST", INVENTORY, "/offer/withdraw_by_inventory_item_group",
                                    body=body, operation="withdrawOfferByInventoryItemGroup",
                                    passes=(404,))  # fmt: skip
        for ids in refs.sku_ids.values():
            if ids.get("offer_id") and not ids.get("group_key"):
                await self._client.call(
                    "POST", INVENTORY, f"/offer/{quote(ids['offer_id'], safe='')}/withdraw",
                    operation="withdrawOffer", passes=(400, 404),
                )  # fmt: skip

    async def _put_item(self, path: str, hub: dict[str, Any]) -> None:
        current = await self._client.call(
            "GET", INVENTORY, path, operation="getInventoryItem", passes=(404,)
        )
        body = merged_item(current.body if current.status == 200 else None, hub)
        await self._client.call("PUT", INVENTORY, path, body=body,
                                operation="createOrReplaceInventoryItem")  # fmt: skip

    async def _offer(self, body: dict[str, Any], marketplace: str, known: str | None) -> str:
        offer_id = known or await self._offer_of(str(body["sku"]), marketplace)
        if offer_id is not None and await self._update_offer(offer_id, body):
            return offer_id
        answer = await self._client.call(
            "POST", INVENTORY, "/offer", body=body, operation="createOffer", passes=(400,)
        )
        if answer.status == 201 and isinstance(answer.body, dict) and answer.body.get("offerId"):
            return str(answer.body["offerId"])
        existing = _named_offer(answer.body)
        if existing is None:
            raise ChannelRejected(f"eBay refused createOffer: {describe(entries(answer.body))}")
        await self._update_offer(existing, body)
        return existing

    async def _offer_of(self, sku: str, marketplace: str) -> str | None:
        answer = await self._client.call(
            "GET", INVENTORY, "/offer", params={"sku": sku, "marketplace_id": marketplace},
            operation="getOffers", passes=(404,),
        )  # fmt: skip
        offers = answer.body.get("offers") if isinstance(answer.body, dict) else None
        for offer in offers or []:
            if isinstance(offer, dict) and offer.get("offerId"):
                return str(offer["offerId"])
        return None

    async def _update_offer(self, offer_id: str, body: Mapping[str, Any]) -> bool:
        """updateOffer (a full replacement of what may change); False when eBay has no such
        offer any more."""
        changing = {k: v for k, v in body.items() if k not in OFFER_KEYS}
        answer = await self._client.call(
            "PUT", INVENTORY, f"/offer/{quote(offer_id, safe='')}", body=changing,
            operation="updateOffer", passes=(404,),
        )  # fmt: skip
        return answer.status != 404


def merged_item(current: Any, hub: Mapping[str, Any]) -> dict[str, Any]:
    """The item to PUT: eBay's current one with the hub's fields written over it."""
    if not isinstance(current, dict):
        return copy.deepcopy(dict(hub))
    item = {k: copy.deepcopy(v) for k, v in current.items() if k not in READ_ONLY}
    product = {k: v for k, v in (item.get("product") or {}).items() if k not in HUB_PRODUCT}
    product.update(copy.deepcopy(hub.get("product") or {}))
    item["product"] = product
    for name in HUB_ITEM:
        if name in hub:
            item[name] = copy.deepcopy(hub[name])
        else:
            item.pop(name, None)
    for name in ("condition", "availability"):
        if name not in item and name in hub:
            item[name] = copy.deepcopy(hub[name])
    return item


def _listing_id(answer: Answer) -> str:
    if isinstance(answer.body, dict) and answer.body.get("listingId"):
        return str(answer.body["listingId"])
    raise ChannelUnavailable("eBay's publish answer named no listing")


def _named_offer(body: Any) -> str | None:
    """The offer an "Offer entity already exists" refusal names."""
    for error in entries(body):
        for parameter in error.get("parameters") or []:
            if isinstance(parameter, dict) and parameter.get("name") == "offerId":
                return str(parameter.get("value"))
    return None
