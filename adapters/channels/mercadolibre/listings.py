"""Publishing a listing on MercadoLibre: classic items with variations, or User Products.

Classic: one item per product, its variants as `variations`. Found before it is made: by the
item id the hub stored, else by SELLER_SKU among the seller's active items (a create whose
answer was lost made one), else created. An update is a `PUT /items/{id}` written over what
MercadoLibre has, under its rules:
- every variation the item keeps is named by its id, since one left out is DELETED: those
  whose SELLER_SKU the draft still has, with the hub's content (never their stock: the pushes
  set it), and those the hub never made (no SELLER_SKU: the merchant's) untouched; a variant
  the draft dropped is the only variation left out;
- category, currency, listing type and buying mode are fixed once listed (not sent again);
  the description is its own resource (`PUT /items/{id}/description`);
- the title is locked once the item has sold: later content edits leave it out, and say so
  (a warning in the log);
- the title is cut to the category's own limit (`categories`: its settings'
  `max_title_length`, read once an hour per process and category), at a word boundary, and the
  log says so;
- a closed item is relisted (`POST /items/{id}/relist`): MercadoLibre gives it a new id,
  which the listing follows.

User Products: one item per variant, with `family_name`; the listing is the family
(`family_id`), each SKU's ids its item and user product. A variant the draft dropped has its
item closed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from adapters.channels.mercadolibre import categories
from adapters.channels.mercadolibre.client import MeliClient
from adapters.channels.mercadolibre.items import ItemReader, sku_of
from adapters.channels.mercadolibre.mapping import user_products
from adapters.logging import get_logger
from domain.channels.listing import ChannelRequest, ListingDraft
from domain.channels.port import ChannelRejected, ChannelUnavailable, ListingRefs

log = get_logger(__name__)

FIXED: Final = frozenset({"category_id", "currency_id", "listing_type_id", "buying_mode",
                          "condition", "description", "family_name"})  # fmt: skip


class Listings:
    def __init__(self, client: MeliClient, items: ItemReader, seller_id: str) -> None:
        self._client = client
        self._items = items
        self._seller = seller_id

    async def upsert(
        self, draft: ListingDraft, requests: Sequence[ChannelRequest], known: ListingRefs
    ) -> ListingRefs:
        bodies = [dict(r.body) for r in requests if r.method == "POST" and r.path == "/items"]
        if not bodies:
            raise ChannelRejected("no MercadoLibre item to publish")
        if user_products(draft.settings):
            return await self._family(draft, bodies, known)
        body = await self._titled(bodies[0])
        first_sku = draft.variants[0].sku if draft.variants else None
        item_id = known.listing_id or (await self._find(first_sku) if first_sku else None)
        item = await self._items.one(item_id) if item_id else None
        if item is None:
            item = await self._create(body)
        else:
            item = await self._update(item, body)
        return ListingRefs(str(item["id"]), _classic_refs(item))

    async def end(self, refs: ListingRefs) -> None:
        """Close the listing's items (a closed item is relisted when listed again)."""
        ids = {ids["item_id"] for ids in refs.sku_ids.values() if ids.get("item_id")}
        if refs.listing_id and not ids:
            ids = {refs.listing_id}
        for item_id in sorted(ids):
            await self._client.call("PUT", f"/items/{quote(item_id, safe='')}",
                                    body={"status": "closed"}, operation="closeItem",
                                    passes=(400, 404))  # fmt: skip

    # Classic -------------------------------------------------------------------------------

    async def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._client.call("POST", "/items", body=body, operation="createItem")
        if not isinstance(answer.body, dict) or not answer.body.get("id"):
            raise ChannelUnavailable("MercadoLibre's createItem answer has no item id")
        return answer.body

    async def _update(self, item: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        item = await self._open(item, body)
        item_id = quote(str(item["id"]), safe="")
        change = {k: copy.deepcopy(v) for k, v in body.items() if k not in FIXED}
        change.pop("available_quantity", None)  # the pushes' to set
        if item.get("variations") or change.get("variations"):
            change.pop("price", None)  # variations carry it
            change["variations"] = kept_variations(item.get("variations") or [],
                                                   change.get("variations") or [])  # fmt: skip
        if item.get("sold_quantity") and change.get("title") != item.get("title"):
            log.warning("mercadolibre.title_locked", item=item["id"], kept=item.get("title"),
                        wanted=change.get("title"))  # fmt: skip
            change.pop("title", None)  # locked after the first sale: the rest goes out
        answer = await self._client.call("PUT", f"/items/{item_id}", body=change,
                                         operation="updateItem")  # fmt: skip
        description = body.get("description")
        if isinstance(description, dict):
            await self._client.call("PUT", f"/items/{item_id}/description",
                                    body={"plain_text": description.get("plain_text", "")},
                                    operation="updateDescription")  # fmt: skip
        updated: dict[str, Any] = answer.body if isinstance(answer.body, dict) else item
        return updated

    async def _open(self, item: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The item itself, or, when it is closed, the new item its relisting makes."""
        if item.get("status") != "closed":
            return item
        relist: dict[str, Any] = {"price": item.get("price"),
                                  "listing_type_id": item.get("listing_type_id")}  # fmt: skip
        if not item.get("variations"):
            relist["quantity"] = body.get("available_quantity", 0)
        answer = await self._client.call(
            "POST", f"/items/{quote(str(item['id']), safe='')}/relist", body=relist,
            operation="relistItem",
        )  # fmt: skip
        if not isinstance(answer.body, dict) or not answer.body.get("id"):
            raise ChannelUnavailable("MercadoLibre's relist answer has no item id")
        log.info("mercadolibre.relisted", item=item["id"], new_item=answer.body["id"])
        return answer.body

    async def _find(self, sku: str) -> str | None:
        """The seller's active item selling this SKU (a create whose answer was lost)."""
        answer = await self._client.call(
            "GET", f"/users/{quote(self._seller, safe='')}/items/search",
            params={"seller_sku": sku, "status": "active"}, operation="searchItems",
        )  # fmt: skip
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        return str(results[0]) if isinstance(results, list) and results else None

    async def _titled(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with its title within its category's limit."""
        title = body.get("title")
        if not isinstance(title, str):
            return body
        found = await categories.read(self._client, str(body.get("category_id") or ""))
        limit = found.title_length
        if limit is None or len(title) <= limit:
            return body
        cut = title[: limit + 1].rsplit(" ", 1)[0] if " " in title[:limit] else title[:limit]
        log.warning("mercadolibre.title_cut", category=body.get("category_id"), limit=limit,
                    title=title, cut=cut[:limit])  # fmt: skip
        return {**body, "title": cut[:limit].rstrip()}

    # User Products -------------------------------------------------------------------------

    async def _family(
        self, draft: ListingDraft, bodies: list[dict[str, Any]], known: ListingRefs
    ) -> ListingRefs:
        known_ids = [ids["item_id"] for ids in known.sku_ids.values() if ids.get("item_id")]
        current = {sku_of(i): i for i in await self._items.many(known_ids) if sku_of(i)}
        refs: dict[str, dict[str, str]] = {}
        for given in bodies:
            body = await self._titled(given)
            sku = sku_of(body) or ""
            item = current.get(sku)
            if item is None:
                found = await self._find(sku)
                item = await self._items.one(found) if found else None
            if item is None:
                item = await self._create(body)
            else:
                item = await self._update(item, body)
            refs[sku] = {"item_id": str(item["id"]),
                         "user_product_id": str(item.get("user_product_id") or ""),
                         "family_id": str(item.get("family_id") or "")}  # fmt: skip
        dropped = [
            i for sku, i in current.items() if sku not in refs and i.get("status") != "closed"
        ]
        for item in dropped:
            await self._client.call("PUT", f"/items/{quote(str(item['id']), safe='')}",
                                    body={"status": "closed"}, operation="closeItem")  # fmt: skip
        families = {ids["family_id"] for ids in refs.values() if ids["family_id"]}
        listing = sorted(families)[0] if families else next(iter(refs.values()))["item_id"]
        return ListingRefs(listing, refs)


def kept_variations(
    current: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The `variations` of a PUT: every variation the item keeps, by id, so none is deleted
    by omission. The hub's (by SELLER_SKU) take the draft's content but keep their stock;
    the merchant's own (no SELLER_SKU) go as they are; the draft's new ones are added."""
    by_sku = {sku_of(v): v for v in current if sku_of(v)}
    result: list[dict[str, Any]] = []
    used: set[Any] = set()
    for variation in wanted:
        sku = sku_of(variation)
        existing = by_sku.get(sku) if sku else None
        entry = {k: copy.deepcopy(v) for k, v in variation.items() if k != "available_quantity"}
        if existing is not None:
            entry["id"] = existing["id"]
            used.add(existing["id"])
        else:
            entry["available_quantity"] = variation.get("available_quantity", 0)
        result.append(entry)
    result += [{"id": v["id"]} for v in current if not sku_of(v) and v["id"] not in used]
    return result


def _classic_refs(item: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    item_id = str(item["id"])
    variations = item.get("variations") or []
    if not variations:
        sku = sku_of(item)
        return {sku: {"item_id": item_id}} if sku else {}
    return {sku: {"item_id": item_id, "variation_id": str(v["id"])}
            for v in variations if (sku := sku_of(v))}  # fmt: skip
