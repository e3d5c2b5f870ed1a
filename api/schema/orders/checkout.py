"""The web store's checkout completion, at the edge: the cart's order read and checked
(every field at fault reported at once) before `domain.orders.checkout.place_all` stores
it holding the cart's units, or refuses it whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.desks.checkout import CheckoutCounter
from api.schema.catalog.inputs import MoneyInput, money
from api.schema.ids import parse_id
from domain.channels.model import Channel
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine
from domain.errors import DomainError, InvalidFields, InvalidInput
from domain.money import Money
from domain.orders.model import Order

MAX_LINES = 100
MAX_FEES = 10
MAX_FEE_KIND = 32
MAX_CART_ID = 100
MAX_KEY = 160
MAX_ADDRESS_FIELDS = 20
MAX_TEXT = 300
PAID = "paid"


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


async def place_order(
    counter: CheckoutCounter,
    channel_id: str,
    order_for: Callable[[Channel], ChannelOrder],
    *,
    key: str,
    actor: str,
) -> tuple[Order, bool]:
    """Store the cart's order holding the cart's units (`domain.orders.checkout.place`,
    with the calls that reach this process together)."""
    return await counter.place(
        parse_id(channel_id, "channelId"), order_for, key=key.strip(), actor=actor
    )
