"""The web store's checkout completion: a paid cart becomes an order holding its own stock.

The cart's hold (reservations with reference `cart:<cartId>`, as `checkoutReserve` made
them) is let go, the order is taken in like any channel's order (one cart is one order:
its external id is the cart id, so a replay finds the same order), and the order reserves
its lines under `order:<id>`.

The cart is released *before* the order is stored: once stored, an open order can be
picked up by the allocation sweep at any moment, and while the cart still held the units
that allocation would find none and backorder the lines. Everything that can be refused is
checked before anything changes; if the process dies between the release and the order,
the web store's retry of the same cart completes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.db.cursors import encode_cursor
from api.schema.catalog.inputs import MoneyInput, money
from api.schema.ids import parse_id
from domain.catalog.money import Money
from domain.errors import DomainError, IllegalState, InvalidFields, InvalidInput, NotFound
from domain.inventory import reservations
from domain.inventory.channels import Channel, ChannelKind
from domain.inventory.model import Reservation, ReservationStatus
from domain.orders.allocation import allocate
from domain.orders.ingest import Ingested, ingest
from domain.orders.model import Order
from domain.ports import UnitOfWorkFactory
from domain.sync.channel import ChannelFee, ChannelOrder, ChannelOrderLine

MAX_LINES = 100
MAX_FEES = 10
MAX_FEE_KIND = 32
MAX_CART_ID = 100
# One release key per reservation: `<key>:<reservation id>`, at most 200 long.
MAX_KEY = 160
MAX_ADDRESS_FIELDS = 20
MAX_TEXT = 300
RESERVATION_PAGE = 100
PAID = "paid"


def cart_reference(cart_id: str) -> str:
    """As `checkoutReserve` names a cart's reservations."""
    return f"cart:{cart_id}"


async def webstore(uows: UnitOfWorkFactory, channel_id: str) -> Channel:
    async with uows(readonly=True) as uow:
        channel = await uow.channels.get(parse_id(channel_id, "channelId"))
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    if channel.kind is not ChannelKind.WEBSTORE:
        raise InvalidInput(
            f"{channel.name} is a {channel.kind.value} channel, not a web store", field="channelId"
        )
    return channel


def _text(value: str | None, field: str, limit: int, errors: list[DomainError]) -> str | None:
    cleaned = value.strip() if value else None
    if cleaned and len(cleaned) > limit:
        errors.append(InvalidInput(f"at most {limit} characters", field=field))
    return cleaned or None


def _address(value: Any, errors: list[DomainError]) -> dict[str, str | None]:
    if not isinstance(value, Mapping):
        errors.append(InvalidInput("an address is a JSON object", field="shippingAddress"))
        return {}
    if len(value) > MAX_ADDRESS_FIELDS or not all(
        isinstance(k, str) and (v is None or (isinstance(v, str) and len(v) <= MAX_TEXT))
        for k, v in value.items()
    ):
        errors.append(
            InvalidInput(
                f"an address has up to {MAX_ADDRESS_FIELDS} fields, each a string of at most "
                f"{MAX_TEXT} characters or null",
                field="shippingAddress",
            )
        )
        return {}
    return dict(value)


def _price(value: MoneyInput, field: str, currency: str, errors: list[DomainError]) -> Money | None:
    try:
        price = money(value, f"{field}.amount")
    except DomainError as error:
        errors.append(error)
        return None
    if price.currency != currency:
        errors.append(
            InvalidInput(f"the web store sells in {currency}", field=f"{field}.currencyCode")
        )
    elif price.minor < 0:
        errors.append(InvalidInput("a price is not negative", field=f"{field}.amount"))
    return price


def channel_order(
    channel: Channel,
    *,
    cart_id: str,
    order_number: str | None,
    customer: Mapping[str, str | None],
    shipping_address: Any,
    lines: list[tuple[str, int, MoneyInput]],
    key: str,
    now: datetime,
    fees: Sequence[tuple[str, MoneyInput]] = (),
) -> ChannelOrder:
    """The cart as the web store's order; every field at fault is reported at once."""
    errors: list[DomainError] = []
    cart = cart_id.strip()
    if not 1 <= len(cart) <= MAX_CART_ID:
        errors.append(InvalidInput(f"a cart id has 1 to {MAX_CART_ID} characters", field="cartId"))
    if not 1 <= len(key.strip()) <= MAX_KEY:
        errors.append(
            InvalidInput(f"idempotency key must be 1-{MAX_KEY} characters", field="idempotencyKey")
        )
    number = _text(order_number, "orderNumber", 100, errors)
    who = {
        name: _text(value, f"customer.{name}", 100 if name == "phone" else MAX_TEXT, errors)
        for name, value in customer.items()
    }
    address = _address(shipping_address, errors)
    if not 1 <= len(lines) <= MAX_LINES:
        errors.append(InvalidInput(f"an order has 1 to {MAX_LINES} lines", field="lines"))
    taken: list[ChannelOrderLine] = []
    for n, (sku, quantity, unit_price) in enumerate(lines):
        if not sku.strip():
            errors.append(InvalidInput("a line names a SKU", field=f"lines[{n}].sku"))
        if quantity < 1:
            errors.append(
                InvalidInput("a line orders at least one unit", field=f"lines[{n}].quantity")
            )
        price = _price(unit_price, f"lines[{n}].unitPrice", channel.currency, errors)
        taken.append(ChannelOrderLine(str(n + 1), sku.strip(), quantity, price))
    taken_fees = _fees(fees, channel.currency, errors)
    InvalidFields.raise_if_any(errors)
    return ChannelOrder(
        external_id=cart,
        number=number or cart,
        updated_at=now,
        placed_at=now,
        status=PAID,
        lines=tuple(taken),
        customer=who,
        raw={"shipping_address": address},
        fees=taken_fees,
    )


def _fees(
    fees: Sequence[tuple[str, MoneyInput]], currency: str, errors: list[DomainError]
) -> tuple[ChannelFee, ...]:
    """What the store's payment provider (or anyone) charges for the order, when it knows."""
    if len(fees) > MAX_FEES:
        errors.append(InvalidInput(f"an order has at most {MAX_FEES} fees", field="fees"))
        return ()
    taken: list[ChannelFee] = []
    for n, (kind, amount) in enumerate(fees):
        name = kind.strip().lower()
        if not 1 <= len(name) <= MAX_FEE_KIND:
            errors.append(
                InvalidInput(
                    f"a fee kind has 1 to {MAX_FEE_KIND} characters", field=f"fees[{n}].kind"
                )
            )
        price = _price(amount, f"fees[{n}].amount", currency, errors)
        if price is not None and name:
            taken.append(ChannelFee(name, price))
    return tuple(taken)


async def _held_by(uows: UnitOfWorkFactory, reference: str) -> list[Reservation]:
    found: list[Reservation] = []
    after: str | None = None
    async with uows(readonly=True) as uow:
        while True:
            page = await uow.inventory.list_reservations(
                sku=None,
                status=ReservationStatus.ACTIVE,
                reference=reference,
                first=RESERVATION_PAGE,
                after=after,
            )
            found.extend(page)
            if len(page) < RESERVATION_PAGE:
                return found
            after = encode_cursor(page[-1].created_at.isoformat(), page[-1].id)


async def release_cart(uows: UnitOfWorkFactory, cart_id: str, key: str, actor: str) -> None:
    """Let go of what the cart still holds (what is already let go stays so)."""
    for held in await _held_by(uows, cart_reference(cart_id)):
        try:
            await reservations.release(
                uows, reservation_id=held.id, key=f"{key}:{held.id}", actor=actor
            )
        except IllegalState:
            continue  # released, expired or committed meanwhile


async def place_order(
    uows: UnitOfWorkFactory,
    channel: Channel,
    incoming: ChannelOrder,
    *,
    key: str,
    actor: str,
) -> tuple[Order, bool]:
    """Store the cart's order and reserve it; returns it and whether it was already there."""
    await release_cart(uows, incoming.external_id, key.strip(), actor)
    taken: Ingested = await ingest(uows, channel.id, incoming, actor=actor)
    allocated = await allocate(uows, taken.order.id, actor=actor)
    return allocated or taken.order, not taken.created
