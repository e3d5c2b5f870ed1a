"""The API's resources, each a handler `(request, body, query, *path groups) -> (status,
answer, headers)` over the sandbox's store and order book."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from sandbox.mercadolibre.app import MULTIGET
from sandbox.mercadolibre.errors import MeliError, bad_request, not_found

if TYPE_CHECKING:
    from sandbox.mercadolibre.app import Handler, MercadoLibreSandbox

Answer = tuple[int, Any, dict[str, str]]
ID = r"([A-Za-z0-9_-]+)"


class Routes:
    def __init__(self, sandbox: MercadoLibreSandbox) -> None:
        self.s = sandbox

    def table(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", r"/users/me", self.me),
            ("GET", rf"/users/{ID}", self.user),
            ("GET", rf"/users/{ID}/items/search", self.search_items),
            ("GET", rf"/categories/{ID}", self.category),
            ("POST", r"/items", self.create_item),
            ("GET", r"/items", self.multiget),
            ("GET", r"/items/visits/time_window", self.visits_by_day),
            ("GET", r"/visits/items", self.visits_total),
            ("GET", rf"/items/{ID}", self.item),
            ("PUT", rf"/items/{ID}", self.update_item),
            ("POST", rf"/items/{ID}/relist", self.relist),
            ("GET", rf"/items/{ID}/description", self.description),
            ("PUT", rf"/items/{ID}/description", self.set_description),
            ("GET", rf"/user-products/{ID}/stock", self.up_stock),
            ("PUT", rf"/user-products/{ID}/stock/type/{ID}", self.set_up_stock),
            ("GET", r"/orders/search", self.search_orders),
            ("GET", rf"/orders/{ID}", self.order),
            ("POST", rf"/orders/{ID}/feedback", self.feedback),
            ("GET", rf"/packs/{ID}", self.pack),
            ("GET", rf"/shipments/{ID}", self.shipment),
            ("POST", rf"/shipments/{ID}/seller_notifications", self.seller_notification),
            ("GET", r"/missed_feeds", self.missed_feeds),
        ]

    # Users and categories

    async def me(self, _r: Request, _b: Any, _q: dict[str, str]) -> Answer:
        return await self.user(_r, _b, _q, str(self.s.seller_id))

    async def user(self, _r: Request, _b: Any, _q: dict[str, str], user_id: str) -> Answer:
        if user_id != str(self.s.seller_id):
            raise not_found(f"User {user_id}")
        tags = ["normal", "user_product_seller"] if self.s.store.user_product_seller else ["normal"]
        return (
            200,
            {"id": self.s.seller_id, "nickname": "NEXO_SANDBOX", "site_id": "MLA", "tags": tags},
            {},
        )

    async def category(self, _r: Request, _b: Any, _q: dict[str, str], category: str) -> Answer:
        return 200, self.s.store.category(category), {}

    # Items

    async def search_items(self, _r: Request, _b: Any, q: dict[str, str], user_id: str) -> Answer:
        if user_id != str(self.s.seller_id):
            raise MeliError(403, "forbidden_error", "the caller can only search its own items")
        found = self.s.store.search(q.get("seller_sku"), q.get("status"))
        offset, limit = int(q.get("offset", "0")), min(int(q.get("limit", "50")), 100)
        return (
            200,
            {
                "seller_id": user_id,
                "results": found[offset : offset + limit],
                "paging": {"total": len(found), "offset": offset, "limit": limit},
            },
            {},
        )

    async def create_item(self, _r: Request, body: Any, _q: dict[str, str]) -> Answer:
        return 201, self.s.store.create(body), {}

    async def multiget(self, _r: Request, _b: Any, q: dict[str, str]) -> Answer:
        ids = [i for i in (q.get("ids") or "").split(",") if i]
        if not ids or len(ids) > MULTIGET:
            raise bad_request(f"ids: from 1 to {MULTIGET} item ids")
        found = []
        for item_id in ids:
            try:
                found.append({"code": 200, "body": self.s.store.get(item_id)})
            except MeliError as missing:
                found.append({"code": missing.status, "body": missing.body()})
        return 200, found, {}

    async def item(self, _r: Request, _b: Any, _q: dict[str, str], item_id: str) -> Answer:
        return 200, self.s.store.get(item_id), {}

    async def update_item(self, _r: Request, body: Any, _q: dict[str, str], item_id: str) -> Answer:
        return 200, self.s.store.update(item_id, body), {}

    async def relist(self, _r: Request, body: Any, _q: dict[str, str], item_id: str) -> Answer:
        return 201, self.s.store.relist(item_id, body), {}

    async def description(self, _r: Request, _b: Any, _q: dict[str, str], item_id: str) -> Answer:
        self.s.store.get(item_id)
        return 200, {"plain_text": self.s.store.descriptions.get(item_id, "")}, {}

    async def set_description(
        self, _r: Request, body: Any, _q: dict[str, str], item_id: str
    ) -> Answer:
        self.s.store.get(item_id)
        if not isinstance(body, dict) or not isinstance(body.get("plain_text"), str):
            raise bad_request("plain_text is required")
        self.s.store.descriptions[item_id] = body["plain_text"]
        return 200, {"plain_text": body["plain_text"]}, {}

    # Visits

    async def visits_by_day(self, _r: Request, _b: Any, q: dict[str, str]) -> Answer:
        return 200, self.s.visits.time_window(q), {}

    async def visits_total(self, _r: Request, _b: Any, q: dict[str, str]) -> Answer:
        return 200, self.s.visits.totals(q), {}

    # User products' stock

    async def up_stock(self, _r: Request, _b: Any, _q: dict[str, str], up_id: str) -> Answer:
        self.s.take_up_stock_call()
        up = self.s.store.up(up_id)
        return 200, up.shown(self.s.seller_id), {"x-version": str(up.version)}

    async def set_up_stock(
        self, request: Request, body: Any, _q: dict[str, str], up_id: str, kind: str
    ) -> Answer:
        self.s.take_up_stock_call()
        up = self.s.store.set_up_stock(up_id, kind, request.headers.get("x-version"), body)
        for item_id in self.s.store.up_items.get(up.id, []):
            if self.s.store.items[item_id]["status"] == "active":
                self.s.notifier.publish("items", f"/items/{item_id}")
        return 200, up.shown(self.s.seller_id), {"x-version": str(up.version)}

    # Orders, packs, shipments

    async def search_orders(self, _r: Request, _b: Any, q: dict[str, str]) -> Answer:
        return 200, self.s.orders.search(q, self.s.seller_id), {}

    async def order(self, _r: Request, _b: Any, _q: dict[str, str], order_id: str) -> Answer:
        return 200, self.s.orders.get(order_id).shown(), {}

    async def feedback(self, _r: Request, body: Any, _q: dict[str, str], order_id: str) -> Answer:
        answer = self.s.orders.feedback(order_id, body)
        self.s.notifier.publish("orders_v2", f"/orders/{order_id}")
        return 201, answer, {}

    async def pack(self, _r: Request, _b: Any, _q: dict[str, str], pack_id: str) -> Answer:
        return 200, self.s.orders.pack(pack_id), {}

    async def shipment(self, _r: Request, _b: Any, _q: dict[str, str], shipment: str) -> Answer:
        return 200, self.s.orders.shipment(shipment).shown(), {}

    async def seller_notification(
        self, _r: Request, body: Any, _q: dict[str, str], shipment_id: str
    ) -> Answer:
        shipment = self.s.orders.notify(shipment_id, body)
        self.s.notifier.publish("shipments", f"/shipments/{shipment.id}")
        return 201, shipment.shown(), {}

    async def missed_feeds(self, _r: Request, _b: Any, q: dict[str, str]) -> Answer:
        if q.get("app_id") != self.s.client_id:
            raise MeliError(403, "forbidden_error", "app_id is not the caller's application")
        offset, limit = int(q.get("offset", "0")), min(int(q.get("limit", "50")), 50)
        return 200, self.s.notifier.missed_feeds(q.get("topic"), offset, limit), {}
