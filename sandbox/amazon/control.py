"""`/_sandbox/*`: what tests, the e2e and the bench do to the account from outside the API.

- `POST /_sandbox/orders` `{lines: [[sku, qty]...], fulfilledBy?: MERCHANT|AMAZON, shipTo?}`
  → `{orderId}` (`shipTo`: a CustomerAddress; its city, stateOrRegion, postalCode and
  countryCode show, the rest needs a Restricted Data Token)
- `POST /_sandbox/orders/{id}/cancel`, `GET /_sandbox/orders/{id}`
- `GET /_sandbox/listings/{sku}`, `POST /_sandbox/listings/{sku}` `{quantity?, price?}`
- `GET /_sandbox/listings` → `{sku: quantity}` for every item
- `POST /_sandbox/views/{sku}` `{pageViews, sessions?, day?}`: buyers view the SKU's page on
  `day` (ISO date, today by default), for GET_SALES_AND_TRAFFIC_REPORT
- `POST /_sandbox/faults` (see sandbox.shopify.faults; drop/duplicate apply to notifications)
- `GET /_sandbox/stats` → token grants, queue figures, contract violations
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from sandbox.amazon.app import AmazonSandbox


def control_routes(sandbox: AmazonSandbox) -> list[BaseRoute]:
    return _order_routes(sandbox) + _account_routes(sandbox)


def _order_routes(sandbox: AmazonSandbox) -> list[BaseRoute]:
    seller = sandbox.seller

    async def place(request: Request) -> Response:
        body = await request.json()
        try:
            lines = [(str(sku), int(qty)) for sku, qty in body["lines"]]
            ship_to = {str(k): str(v) for k, v in (body.get("shipTo") or {}).items()} or None
            order_id = seller.place_order(
                lines, fulfilled_by=body.get("fulfilledBy", "MERCHANT"), ship_to=ship_to
            )
        except (KeyError, TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"orderId": order_id})

    async def cancel(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if order_id not in seller.orders:
            return JSONResponse({"error": "no such order"}, 404)
        seller.cancel_order(order_id)
        return JSONResponse({"cancelled": order_id})

    async def order(request: Request) -> Response:
        found = seller.orders.get(request.path_params["order_id"])
        if found is None:
            return JSONResponse({"error": "no such order"}, 404)
        view: dict[str, Any] = found.as_2026()
        view["packages"] = [
            {"reference": p.reference, "carrier": p.carrier, "tracking": p.tracking}
            for p in found.packages
        ]
        return JSONResponse(view)

    return [
        Route("/_sandbox/orders", place, methods=["POST"]),
        Route("/_sandbox/orders/{order_id}", order, methods=["GET"]),
        Route("/_sandbox/orders/{order_id}/cancel", cancel, methods=["POST"]),
    ]


def _account_routes(sandbox: AmazonSandbox) -> list[BaseRoute]:
    seller = sandbox.seller

    async def listing(request: Request) -> Response:
        seller.settle()
        sku = request.path_params["sku"]
        item = seller.listings.items.get(sku)
        if request.method == "POST":
            if item is None:
                return JSONResponse({"error": "no such SKU"}, 404)
            body = await request.json()
            price = body.get("price")
            seller.edit(
                sku,
                quantity=body.get("quantity"),
                price=Decimal(str(price)) if price is not None else None,
            )
        if item is None:
            return JSONResponse({"error": "no such SKU"}, 404)
        offer = item.offer
        return JSONResponse(
            {
                "sku": sku,
                "quantity": item.quantity,
                "price": str(offer[1]) if offer else None,
                "parent": item.parent_sku,
                "title": item.title,
                "attributes": item.attributes,
            }
        )

    async def listings(_request: Request) -> Response:
        seller.settle()
        return JSONResponse({sku: i.quantity for sku, i in seller.listings.items.items()})

    async def fba(request: Request) -> Response:
        """The seller sends units to Amazon's centres (FBA); answers what they hold."""
        sku = request.path_params["sku"]
        if request.method == "POST":
            seller.fba.receive(sku, int((await request.json())["quantity"]))
        held = seller.fba.units.get(sku)
        if held is None:
            return JSONResponse({"error": "no such SKU"}, 404)
        return JSONResponse({"sku": sku, "fulfillable": held.fulfillable, "pending": held.pending})

    async def views(request: Request) -> Response:
        """Buyers view a SKU's page: {"pageViews", "sessions"?, "day"?} (today by default)."""
        body = await request.json()
        day = date.fromisoformat(body["day"]) if body.get("day") else None
        sessions = body.get("sessions")
        try:
            sandbox.view(
                request.path_params["sku"], int(body["pageViews"]), day,
                None if sessions is None else int(sessions),
            )  # fmt: skip
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"sku": request.path_params["sku"]})

    async def faults(request: Request) -> Response:
        try:
            sandbox.faults.configure(await request.json())
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(sandbox.faults.snapshot())

    async def stats(_request: Request) -> Response:
        return JSONResponse(
            {
                "token_grants": seller.token_grants,
                "queue_sent": seller.queue.sent,
                "queue_dropped": seller.queue.dropped,
                "queue_waiting": len(seller.queue.messages),
                "violations": seller.violations,
                "feeds": len(seller.feeds.feeds),
                "calls": len(sandbox.calls),
            }
        )

    return [
        Route("/_sandbox/listings", listings, methods=["GET"]),
        Route("/_sandbox/listings/{sku:path}", listing, methods=["GET", "POST"]),
        Route("/_sandbox/fba/{sku:path}", fba, methods=["GET", "POST"]),
        Route("/_sandbox/views/{sku:path}", views, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
    ]
