"""Reading the seller's items: one (`GET /items/{id}`) or many (`GET /items?ids=`, at most 20
a call, each answered `{code, body}`), and the SKU an item or variation carries (its
`SELLER_SKU` attribute)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from adapters.channels.mercadolibre.client import MeliClient
from domain.channels.port import ChannelUnavailable

MULTIGET: Final = 20


def sku_of(node: Mapping[str, Any]) -> str | None:
    """The SELLER_SKU attribute of an item, variation or item body; None without one."""
    for attribute in node.get("attributes") or []:
        if isinstance(attribute, Mapping) and attribute.get("id") == "SELLER_SKU":
            value = attribute.get("value_name")
            return str(value) if value else None
    return None


class ItemReader:
    def __init__(self, client: MeliClient) -> None:
        self._client = client

    async def one(self, item_id: str) -> dict[str, Any] | None:
        """The item; None when MercadoLibre has no such item."""
        answer = await self._client.call("GET", f"/items/{quote(item_id, safe='')}",
                                         operation="getItem", passes=(404,))  # fmt: skip
        if answer.status == 404:
            return None
        if not isinstance(answer.body, dict) or not answer.body.get("id"):
            raise ChannelUnavailable("MercadoLibre's getItem answer is not an item")
        return answer.body

    async def many(self, item_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The items MercadoLibre has among these (a multiget per 20)."""
        unique = list(dict.fromkeys(item_ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), MULTIGET):
            ids = ",".join(unique[start : start + MULTIGET])
            answer = await self._client.call("GET", "/items", params={"ids": ids},
                                             operation="getItems")  # fmt: skip
            if not isinstance(answer.body, list):
                raise ChannelUnavailable("MercadoLibre's multiget answer is not a list")
            for entry in answer.body:
                body = entry.get("body") if isinstance(entry, dict) else None
                if isinstance(entry, dict) and entry.get("code") == 200 and isinstance(body, dict):
                    found.append(body)
        return found
