"""The seller's sales as MercadoLibre keeps them: orders, packs (carts) and shipments.

- A checkout of one item is one order; of several, one order per item sharing a `pack_id`
  (the cart), all under one shipment;
- `sale_fee` is MercadoLibre's commission for one unit (~ 13% here);
- `/orders/search` filters by `order.date_last_updated.from/.to`, truncated to the hour (~ the
  minutes and seconds of a filter are ignored: a caller asking from 10:59 is given 10:00
  onwards, and one asking up to 10:59 misses what changed since 10:00), `sort=date_asc|
  date_desc` by creation, `limit` <= 50, `offset`; each change moves `date_last_updated` on by
  at least a millisecond;
- shipments: ME1 (the seller ships and tells `POST /shipments/{id}/seller_notifications`
  `{payload{service_id, comment, date}, tracking_number, tracking_url, status}`; ~ each such
  notice is one parcel, and the units it holds are read from its comment, `units:
  ORDER_IDxQTY, ...`, when it names them — otherwise the whole shipment went) and ME2
  (MercadoLibre labels and tracks it: its status moves ready_to_ship → shipped → delivered on
  its own, `advance`, and a delivered shipment's orders carry the tag `delivered`; a seller
  notice is refused);
- a seller who cannot fill an order says so with `POST /orders/{id}/feedback {fulfilled:
  false, reason, message, rating}` (~ the classic way; it cancels the order, and the units
  are not put back on sale); a buyer's cancellation puts them back.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from sandbox.mercadolibre.errors import MeliError, bad_request, not_found
from sandbox.mercadolibre.items import Store
from sandbox.mercadolibre.validation import seller_sku

FEE_RATE: Final = Decimal("0.13")
MAX_LIMIT: Final = 50
ARGENTINA: Final = timezone(timedelta(hours=-3))
UNFILLED_REASONS: Final = frozenset(
    {
        "SELLER_OUT_OF_STOCK",
        "SELLER_DIDNT_TRY_TO_CONTACT_BUYER",
        "BUYER_NOT_ENOUGH_MONEY",
        "BUYER_REGRETS",
    }
)
_UNITS = re.compile(r"(\d+)x(\d+)")


def stamp(moment: datetime) -> str:
    """MercadoLibre's timestamps: the site's offset, milliseconds."""
    return moment.astimezone(ARGENTINA).isoformat(timespec="milliseconds")


def moment(text: str) -> datetime:
    found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if found.tzinfo is None:
        raise ValueError(f"{text}: a filter needs its offset")
    return found


@dataclass
class Order:
    id: int
    pack_id: int | None
    item_id: str
    variation_id: int | None
    sku: str | None
    title: str
    quantity: int
    unit_price: Decimal
    currency: str
    shipping_id: int
    buyer: str
    created: datetime
    modified: datetime
    status: str = "paid"
    shipped: int = 0
    feedback: dict[str, Any] | None = None
    delivered: bool = False  # its shipment arrived (the order's `delivered` tag)

    def shown(self) -> dict[str, Any]:
        fee = (self.unit_price * FEE_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return {
            "id": self.id,
            "status": self.status,
            "status_detail": None,
            "date_created": stamp(self.created),
            "date_closed": stamp(self.created),
            "date_last_updated": stamp(self.modified),
            "pack_id": self.pack_id,
            "total_amount": float(self.unit_price * self.quantity),
            "currency_id": self.currency,
            "shipping": {"id": self.shipping_id},
            "buyer": {"id": zlib.crc32(self.buyer.encode()), "nickname": self.buyer.upper()},
            "seller": {"id": None},
            "tags": (["paid"] if self.status == "paid" else [])
            + (["delivered"] if self.delivered else []),
            "order_items": [
                {
                    "item": {
                        "id": self.item_id,
                        "title": self.title,
                        "variation_id": self.variation_id,
                        "seller_sku": self.sku,
                    },
                    "quantity": self.quantity,
                    "unit_price": float(self.unit_price),
                    "full_unit_price": float(self.unit_price),
                    "currency_id": self.currency,
                    "sale_fee": float(fee),
                }
            ],
        }


@dataclass
class Shipment:
    id: int
    mode: str  # "me1" or "me2"
    order_ids: list[int]
    created: datetime
    modified: datetime
    status: str = "ready_to_ship"
    parcels: list[dict[str, Any]] = field(default_factory=list)  # ME1 seller notices
    # Where it goes, as MercadoLibre shows it: {address_line, zip_code, city{id, name},
    # state{id ("AR-C"), name}, country{id ("AR"), name}…}; None: no receiver_address.
    receiver_address: dict[str, Any] | None = None

    def shown(self) -> dict[str, Any]:
        tracking = self.parcels[-1]["tracking_number"] if self.parcels else None
        if self.mode == "me2" and self.status in ("shipped", "delivered"):
            tracking = f"ME2{self.id}"
        return {
            "id": self.id,
            "mode": self.mode,
            "status": self.status,
            "substatus": None,
            "order_id": self.order_ids[0],
            **({"receiver_address": self.receiver_address} if self.receiver_address else {}),
            "tracking_number": tracking,
            "tracking_method": "seller" if self.mode == "me1" else "MEL Distribution",
            "date_created": stamp(self.created),
            "last_updated": stamp(self.modified),
        }


class OrderBook:
    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self.orders: dict[int, Order] = {}
        self.shipments: dict[int, Shipment] = {}

    def _tick(self, after: datetime | None = None) -> datetime:
        moment = self._now()
        if after is not None and moment <= after:
            moment = after + timedelta(milliseconds=1)
        return moment

    def place(
        self,
        lines: list[tuple[str, int]],
        buyer: str = "buyer_one",
        ship_to: dict[str, Any] | None = None,
        mode: str | None = None,
    ) -> list[Order]:
        """A buyer checks out (to `ship_to`, the shipment's receiver_address, when given): one
        order per line, a pack when there are several, shipped as the first item's shipping
        mode says (or `mode`, "me1" or "me2", when given)."""
        chosen = []
        for sku, quantity in lines:
            listed = self._store.listed(sku)
            if not listed or self._store.buyable(*listed[0]) < quantity or quantity < 1:
                raise ValueError(f"{sku}: not {quantity} for sale on MercadoLibre")
            chosen.append((listed[0], quantity))
        now = self._tick()
        pack = self._store.next_id() if len(lines) > 1 else None
        first_item = chosen[0][0][0]
        mode = mode or str((first_item.get("shipping") or {}).get("mode") or "me2")
        shipment = Shipment(self._store.next_id(), mode, [], now, now, receiver_address=ship_to)
        made = []
        for (item, variation), quantity in chosen:
            listed_sku = seller_sku((variation or item).get("attributes"))
            price = Decimal(str(variation["price"] if variation else item["price"]))
            order = Order(
                self._store.next_id(),
                pack,
                item["id"],
                variation["id"] if variation else None,
                listed_sku,
                item["title"],
                quantity,
                price,
                item["currency_id"],
                shipment.id,
                buyer,
                now,
                now,
            )
            self._store.take(item, variation, quantity)
            self.orders[order.id] = order
            shipment.order_ids.append(order.id)
            made.append(order)
        self.shipments[shipment.id] = shipment
        return made

    def get(self, order_id: int | str) -> Order:
        found = self.orders.get(int(order_id)) if str(order_id).isdigit() else None
        if found is None:
            raise not_found(f"Order {order_id}")
        return found

    def pack(self, pack_id: int | str) -> dict[str, Any]:
        orders = [o for o in self.orders.values() if str(o.pack_id) == str(pack_id)]
        if not orders:
            raise not_found(f"Pack {pack_id}")
        status = "cancelled" if all(o.status == "cancelled" for o in orders) else "paid"
        return {
            "id": orders[0].pack_id,
            "status": status,
            "shipment": {"id": orders[0].shipping_id},
            "orders": [{"id": o.id} for o in orders],
            "date_created": stamp(orders[0].created),
            "last_updated": stamp(max(o.modified for o in orders)),
        }

    def of_sale(self, sale: int | str) -> list[Order]:
        """The orders of a sale as tests name it: an order id or a pack id."""
        pack = [o for o in self.orders.values() if str(o.pack_id) == str(sale)]
        return pack or [self.get(sale)]

    def cancel(self, order_id: int | str) -> Order:
        """The buyer's cancellation before shipping: the units go back on sale."""
        order = self.get(order_id)
        if order.status != "cancelled":
            order.status = "cancelled"
            self._put_back(order)
            order.modified = self._tick(order.modified)
        return order

    def _put_back(self, order: Order) -> None:
        item = self._store.items.get(order.item_id)
        if item is None:
            return
        variation = next((v for v in item["variations"] if v["id"] == order.variation_id), None)
        self._store.take(item, variation, -(order.quantity - order.shipped))

    def feedback(self, order_id: str, body: Any) -> dict[str, Any]:
        order = self.get(order_id)
        if not isinstance(body, dict) or not isinstance(body.get("fulfilled"), bool):
            raise bad_request("fulfilled (true or false) is required")
        if body.get("rating") not in ("positive", "neutral", "negative"):
            raise bad_request("rating must be positive, neutral or negative")
        if order.feedback is not None:
            raise MeliError(400, "feedback_already_exists", "the seller gave this order's feedback")
        if not body["fulfilled"]:
            if body.get("reason") not in UNFILLED_REASONS:
                raise bad_request(f"reason must be one of {sorted(UNFILLED_REASONS)}")
            if order.shipped:
                raise bad_request("the order has shipped")
            order.status = "cancelled"
        order.feedback = dict(body)
        order.modified = self._tick(order.modified)
        return {"id": order.id, "fulfilled": body["fulfilled"], "rating": body["rating"]}

    def search(self, query: dict[str, str], seller_id: int) -> dict[str, Any]:
        if query.get("seller") != str(seller_id):
            raise MeliError(403, "forbidden", "the caller can only search its own sales")
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
            start = _hour(query.get("order.date_last_updated.from"))
            end = _hour(query.get("order.date_last_updated.to"))
        except ValueError as problem:
            raise bad_request(f"invalid filter: {problem}") from None
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            raise bad_request(f"limit must be from 1 to {MAX_LIMIT}, offset at least 0")
        sort = query.get("sort", "date_asc")
        if sort not in ("date_asc", "date_desc"):
            raise bad_request("sort must be date_asc or date_desc")
        found = [
            o
            for o in self.orders.values()
            if (start is None or o.modified >= start) and (end is None or o.modified <= end)
        ]
        found.sort(key=lambda o: (o.created, o.id), reverse=sort == "date_desc")
        return {
            "query": None,
            "results": [o.shown() for o in found[offset : offset + limit]],
            "sort": {"id": sort},
            "paging": {"total": len(found), "offset": offset, "limit": limit},
        }

    # Shipments -----------------------------------------------------------------------------

    def shipment(self, shipment_id: int | str) -> Shipment:
        found = self.shipments.get(int(shipment_id)) if str(shipment_id).isdigit() else None
        if found is None:
            raise not_found(f"Shipment {shipment_id}")
        return found

    def notify(self, shipment_id: str, body: Any) -> Shipment:
        """An ME1 seller's notice that a parcel left (or arrived), with its tracking."""
        shipment = self.shipment(shipment_id)
        if shipment.mode != "me1":
            raise MeliError(403, "forbidden", "an ME2 shipment is managed by MercadoLibre")
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            raise bad_request("payload is required")
        tracking = body.get("tracking_number")
        if not isinstance(tracking, str) or not tracking.strip():
            raise bad_request("tracking_number is required")
        if body.get("status") not in ("shipped", "delivered"):
            raise bad_request("status must be shipped or delivered")
        orders = [self.orders[i] for i in shipment.order_ids]
        live = [o for o in orders if o.status != "cancelled"]
        if not live:
            raise bad_request("the shipment's orders are cancelled")
        if any(p["tracking_number"] == tracking for p in shipment.parcels):
            return shipment  # the same parcel told again
        units = {
            int(i): int(q) for i, q in _UNITS.findall(str(body["payload"].get("comment") or ""))
        }
        for order in live:
            more = units.get(order.id, 0) if units else order.quantity - order.shipped
            order.shipped = min(order.quantity, order.shipped + more)
            order.modified = self._tick(order.modified)
        shipment.parcels.append(
            {"tracking_number": tracking, "status": body["status"], "units": units}
        )
        if all(o.shipped >= o.quantity for o in live):
            shipment.status = str(body["status"])
        shipment.modified = self._tick(shipment.modified)
        return shipment

    def advance(self, shipment_id: int) -> Shipment:
        """ME2: MercadoLibre moves the shipment on (ready_to_ship → shipped → delivered)."""
        shipment = self.shipment(shipment_id)
        following = {"ready_to_ship": "shipped", "shipped": "delivered"}
        if shipment.status in following:
            shipment.status = following[shipment.status]
            shipment.modified = self._tick(shipment.modified)
            for order_id in shipment.order_ids:
                order = self.orders[order_id]
                if shipment.status == "shipped" and order.status != "cancelled":
                    order.shipped = order.quantity
                order.delivered = shipment.status == "delivered"
                order.modified = self._tick(order.modified)
        return shipment


def _hour(text: str | None) -> datetime | None:
    if not text:
        return None
    return moment(text).replace(minute=0, second=0, microsecond=0)
