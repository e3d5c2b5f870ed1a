"""`/_sandbox/*`: drive the shop from another process (end-to-end tests, the demo).

POST /_sandbox/orders {"lines": [["SKU", 1]], "customer"?, "locationId"?, "shippingAddress"?}
                                                                       -> {"id": order gid}
POST /_sandbox/inventory {"sku", "locationId", "available"}         -> {"available": N}
POST /_sandbox/locations {"name"}                                      -> {"id": location gid}
POST /_sandbox/faults {...}             (see Faults.configure)         -> the faults now set
POST /_sandbox/webhooks {"url", "topics"?}                             -> the subscription
POST /_sandbox/webhooks/deliver                                        -> {"attempted": N}
POST /_sandbox/views {"sku", "views", "day"?: "2026-12-01"}          -> {"productId": gid}
     (shoppers view the page of the product selling the SKU: ShopifyQL's view_sessions)
GET  /_sandbox/state                                                   -> products, levels, orders…
GET  /_sandbox/calls, GET /_sandbox/webhooks/log                       -> the logs
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.shopify.state import shop_state
from sandbox.shopify.webhooks import TOPICS

if TYPE_CHECKING:
    from sandbox.shopify.app import ShopifySandbox


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as error:
        raise ValueError("the body is not JSON") from error
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def control_routes(sandbox: ShopifySandbox) -> list[Route]:
    async def orders(request: Request) -> JSONResponse:
        body = await _json(request)
        lines = [(str(sku), int(quantity)) for sku, quantity in body.get("lines") or []]
        order_id = await sandbox.place_order(
            lines,
            customer=body.get("customer"),
            location_gid=body.get("locationId"),
            shipping_address=body.get("shippingAddress"),
        )
        return JSONResponse({"id": order_id}, 201)

    async def inventory(request: Request) -> JSONResponse:
        body = await _json(request)
        await sandbox.edit_inventory(
            str(body["sku"]), str(body["locationId"]), int(body["available"])
        )
        return JSONResponse(
            {"available": sandbox.inventory_quantity(body["sku"], body["locationId"])}
        )

    async def locations(request: Request) -> JSONResponse:
        body = await _json(request)
        return JSONResponse({"id": sandbox.add_location(str(body["name"]))}, 201)

    async def views(request: Request) -> JSONResponse:
        body = await _json(request)
        day = date.fromisoformat(body["day"]) if body.get("day") else None
        return JSONResponse({"productId": sandbox.view(str(body["sku"]), int(body["views"]), day)})

    async def faults(request: Request) -> JSONResponse:
        sandbox.faults.configure(await _json(request))
        return JSONResponse(sandbox.faults.snapshot())

    async def webhooks(request: Request) -> JSONResponse:
        body = await _json(request)
        outbox = sandbox.webhooks
        outbox.url = body.get("url")
        if "topics" in body:
            unknown = set(body["topics"]) - TOPICS
            if unknown:
                raise ValueError(f"unknown topics: {sorted(unknown)}")
            outbox.topics = set(body["topics"])
        return JSONResponse({"url": outbox.url, "topics": sorted(outbox.topics)})

    async def deliver(_request: Request) -> JSONResponse:
        return JSONResponse({"attempted": await sandbox.deliver_pending_webhooks()})

    async def state(_request: Request) -> JSONResponse:
        return JSONResponse(shop_state(sandbox.store))

    async def calls(_request: Request) -> JSONResponse:
        return JSONResponse(sandbox.calls)

    async def webhook_log(_request: Request) -> JSONResponse:
        return JSONResponse(sandbox.webhook_log)

    routes = [
        ("/_sandbox/orders", orders, "POST"),
        ("/_sandbox/inventory", inventory, "POST"),
        ("/_sandbox/locations", locations, "POST"),
        ("/_sandbox/views", views, "POST"),
        ("/_sandbox/faults", faults, "POST"),
        ("/_sandbox/webhooks", webhooks, "POST"),
        ("/_sandbox/webhooks/deliver", deliver, "POST"),
        ("/_sandbox/state", state, "GET"),
        ("/_sandbox/calls", calls, "GET"),
        ("/_sandbox/webhooks/log", webhook_log, "GET"),
    ]
    return [
        Route(path, _bad_input_as_400(endpoint), methods=[method])
        for path, endpoint, method in routes
    ]


def _bad_input_as_400(endpoint: Any) -> Any:
    async def guarded(request: Request) -> JSONResponse:
        try:
            response: JSONResponse = await endpoint(request)
        except (KeyError, TypeError, ValueError) as error:
            return JSONResponse({"error": str(error) or type(error).__name__}, 400)
        return response

    return guarded
