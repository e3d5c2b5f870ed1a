"""Packing slips as printable HTML over HTTP: `GET /packing-slips/<parcel or shipment id>.html`
with an API key (`Authorization: Bearer <key>`), as the report downloads. Every value from an
order (names, addresses, SKUs: what channels and buyers typed) is escaped.

An unknown or malformed id is answered 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from adapters.container import Container
from api.auth import Authenticator
from api.schema.ids import decode
from domain.access import parse_bearer
from domain.errors import NotFound
from domain.orders.packing_slip import PackingSlip, SlipOrder, packing_slip

STYLE = """
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #999; padding: .3em .6em; text-align: left; }
td.qty { text-align: right; }
@media print { body { margin: 0; } }
"""


def _text(value: object) -> str:
    return escape("" if value is None else str(value))


def _order(order: SlipOrder) -> str:
    rows = "".join(
        f"<tr><td>{_text(ln.bin or '-')}</td><td>{_text(ln.sku or ln.channel_sku)}</td>"
        f'<td class="qty">{ln.quantity}</td></tr>'
        for ln in order.lines
    )
    return (
        f"<h2>Order {_text(order.number or order.order_id)} ({_text(order.channel)})</h2>"
        f"<table><tr><th>Bin</th><th>SKU</th><th>Quantity</th></tr>{rows}</table>"
    )


def render(slip: PackingSlip) -> str:
    """The slip as one HTML page."""
    address = "<br>".join(_text(v) for v in slip.ship_to.values() if v)
    units = sum(ln.quantity for order in slip.orders for ln in order.lines)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Packing slip {_text(slip.tracking_number)}</title><style>{STYLE}</style>"
        "</head><body><h1>Packing slip</h1>"
        f"<p>Parcel {_text(slip.parcel_id)}: {_text(slip.carrier)} "
        f"{_text(slip.tracking_number)}, from {_text(slip.shipped_from)}, "
        f"{_text(slip.shipped_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
        f"<h2>Ship to</h2><address>{_text(slip.customer)}<br>{address}</address>"
        f"{''.join(_order(order) for order in slip.orders)}"
        f"<p>{len(slip.orders)} order(s), {units} unit(s).</p></body></html>"
    )


def packing_slip_page(
    container: Container, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    """The slip endpoint, over the app's container and authenticator."""

    async def page(request: Request) -> Response:
        if await authenticator(parse_bearer(request.headers.get("authorization"))) is None:
            return JSONResponse(
                {"error": "an API key is required", "code": "UNAUTHENTICATED"}, status_code=401
            )
        try:
            # A parcel's or shipment's id as the API answers it (`gid://nexo/Parcel/<uuid>`,
            # its slashes escaped or not) or the raw uuid.
            _, key = decode(request.path_params["parcel_id"], "parcelId")
            parcel = uuid.UUID(key)
            slip = await packing_slip(container.uow, parcel)
        except (ValueError, NotFound):
            return JSONResponse(
                {"error": "no such parcel or shipment", "code": "NOT_FOUND"}, status_code=404
            )
        return HTMLResponse(render(slip))

    return page
