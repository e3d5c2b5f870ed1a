"""Schema area: the own web store as a client of Nexo — what it shows, holding a cart's stock
at checkout and letting it go, and live availability for the products it shows.

Every operation names a WEBSTORE channel. A cart's reservations carry the reference
`cart:<cartId>`, so cart ids must be unique across web stores (UUIDs, say).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from adapters.db.cursors import encode_cursor
from api.schema.catalog.types import Money
from api.schema.context import Info
from api.schema.errors import UserError, query_errors, user_errors_as
from api.schema.ids import parse_id
from api.schema.inventory.types import Reservation
from api.schema.permissions import CanMutate
from domain.catalog.prices import PriceBook, price_on
from domain.channels.model import Channel, ChannelForSku, ChannelKind
from domain.channels.pricing import ChannelPrice
from domain.clock import utcnow
from domain.errors import DomainError, ErrorCode, IllegalState, InvalidInput, NotFound
from domain.inventory import hold_requests, reservations
from domain.inventory.events import STOCK_TOPIC, availability_on
from domain.inventory.model import Reservation as DomainReservation
from domain.inventory.model import ReservationStatus
from domain.ports import UnitOfWork

MAX_SKUS = 100
MAX_CART_ID = 100
# releaseCart derives one key per reservation (`<key>:<reservation id>`, at most 200 long).
MAX_RELEASE_KEY = 160
RESERVATION_PAGE = 100
DEFAULT_CART_EXPIRY_SECONDS = 900
_WHOLE_LINE = re.compile(r"lines\[\d+\]")


# Types ---------------------------------------------------------------------------------------


@strawberry.type(description="What the web store shows for a SKU.")
class StorefrontItem:
    sku: str
    quantity: int = strawberry.field(
        description="What the channel may sell now: its locations' availability under its rules."
    )
    price: Money | None = strawberry.field(
        description="The channel's price; null when its price rule cannot be applied "
        "(e.g. no exchange rate into the channel's currency)."
    )
    compare_at_price: Money | None


@strawberry.type(description="A web store channel's quantity for a SKU changed.")
class ChannelAvailabilityChange:
    sku: str
    channel_id: strawberry.ID
    quantity: int
    version: int = strawberry.field(
        description="The version of the stock level (at one of the channel's locations) "
        "whose change this is."
    )
    changed_at: datetime


@strawberry.input
class CartLineInput:
    sku: str
    quantity: int


@strawberry.input
class CheckoutReserveInput:
    channel_id: strawberry.ID
    cart_id: str
    lines: list[CartLineInput]
    idempotency_key: str
    expires_in_seconds: int = strawberry.field(
        default=DEFAULT_CART_EXPIRY_SECONDS,
        description="Unless committed or released, the units go back after this long.",
    )


@strawberry.input
class ReleaseCartInput:
    channel_id: strawberry.ID
    cart_id: str
    idempotency_key: str = strawberry.field(description=f"At most {MAX_RELEASE_KEY} characters.")


@strawberry.type
class CartReservationsPayload:
    reservations: list[Reservation] = strawberry.field(default_factory=list)
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# Rules -----------------------------------------------------------------------------------------


async def _webstore(uow: UnitOfWork, channel_id: strawberry.ID) -> Channel:
    return _checked(await uow.channels.get(parse_id(channel_id, "channelId")), channel_id)


def _checked(channel: Channel | None, channel_id: strawberry.ID) -> Channel:
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    if channel.kind is not ChannelKind.WEBSTORE:
        raise InvalidInput(
            f"{channel.name} is a {channel.kind.value} channel, not a web store", field="channelId"
        )
    return channel


async def _webstore_of(info: Info, channel_id: strawberry.ID) -> Channel:
    """The web store a cart names: from the process's channel book while it is fresh (a
    channel's kind and locations are set when it is created), else one read shared by the
    carts asking meanwhile, with no transaction around it (no BEGIN and ROLLBACK round
    trips)."""
    uows = info.context.container.uow
    wanted = parse_id(channel_id, "channelId")

    async def read() -> Channel | None:
        async with uows(readonly=True, autocommit=True) as uow:
            return await uow.channels.get(wanted, fresh=False)

    return _checked(await uows.channel_book.known_or_read(wanted, read), channel_id)


def _source(channel: Channel) -> uuid.UUID | None:
    """Where a cart's units are held: the web store's location.

    Pinned only when there is one: the choice must not depend on stock, or a replayed key
    would no longer match its first request. With several, the domain picks among every
    sellable location (restricting it to the channel's needs a domain option).
    """
    if not channel.location_ids:
        raise InvalidInput(f"{channel.name} has no location to sell from", field="channelId")
    return channel.location_ids[0] if len(channel.location_ids) == 1 else None


def _cart_reference(cart_id: str) -> str:
    cart = cart_id.strip()
    if not 1 <= len(cart) <= MAX_CART_ID:
        raise InvalidInput(f"a cart id has 1 to {MAX_CART_ID} characters", field="cartId")
    return f"cart:{cart}"


def _skus(skus: list[str]) -> list[str]:
    if len(skus) > MAX_SKUS:
        raise InvalidInput(f"at most {MAX_SKUS} SKUs at a time", field="skus")
    return skus


def _cart_refused(*, user_errors: list[UserError]) -> CartReservationsPayload:
    """The domain names a short line as `lines[i]`; the quantity is what the shopper changes."""
    return CartReservationsPayload(
        user_errors=[
            UserError(field=f"{e.field}.quantity", message=e.message, code=e.code)
            if e.code is ErrorCode.INSUFFICIENT_STOCK and e.field and _WHOLE_LINE.fullmatch(e.field)
            else e
            for e in user_errors
        ]
    )


async def _storefront_items(
    uow: UnitOfWork, channel: Channel, skus: list[str], now: datetime
) -> list[StorefrontItem | None]:
    """Every SKU's channel quantity and price, in a fixed number of reads."""
    wanted = sorted(set(skus))
    if not wanted:
        return []
    variants = await uow.catalog.variants_by_sku(wanted)
    snapshots = await uow.inventory.snapshots(wanted)
    overrides = await uow.channels.overrides_for(wanted)
    config = await uow.channel_configs.get(channel.id)
    book = PriceBook(
        rates=await uow.pricing.rates(),
        overrides=await uow.pricing.overrides(wanted),
        sales=await uow.pricing.sales(wanted),
        now=now,
    )
    items: dict[str, StorefrontItem] = {}
    for sku in wanted:
        variant = variants.get(sku)
        if variant is None or variant.archived_at is not None:
            continue
        snapshot = snapshots.get(sku)
        entry = ChannelForSku(channel, overrides.get((channel.id, sku)))
        quantity = availability_on(snapshot, entry).quantity if snapshot else 0
        try:
            price: ChannelPrice | None = price_on(variant, channel, config, book)
        except DomainError:
            price = None  # e.g. no exchange rate into the channel's currency
        items[sku] = StorefrontItem(
            sku=sku,
            quantity=quantity,
            price=Money.from_domain(price.price) if price else None,
            compare_at_price=Money.maybe(price.compare_at) if price else None,
        )
    return [items.get(sku) for sku in skus]


async def _cart_reservations(info: Info, reference: str) -> list[DomainReservation]:
    found: list[DomainReservation] = []
    after: str | None = None
    async with info.context.container.uow(readonly=True) as uow:
        while True:
            page = await uow.inventory.list_reservations(
                sku=None, status=None, reference=reference, first=RESERVATION_PAGE, after=after
            )
            found.extend(page)
            if len(page) < RESERVATION_PAGE:
                return found
            after = encode_cursor(page[-1].created_at.isoformat(), page[-1].id)


# Operations ------------------------------------------------------------------------------------


@strawberry.type
class StorefrontQuery:
    @strawberry.field(
        description=f"Quantity and price on a web store channel for up to {MAX_SKUS} SKUs, in "
        "the order asked. An entry is null when no (unarchived) variant has that SKU."
    )
    async def storefront_items(
        self, info: Info, channel_id: strawberry.ID, skus: list[str]
    ) -> list[StorefrontItem | None]:
        with query_errors():
            wanted = _skus(skus)
            async with info.context.container.uow(readonly=True) as uow:
                channel = await _webstore(uow, channel_id)
                return await _storefront_items(uow, channel, wanted, utcnow())


@strawberry.type
class StorefrontMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Hold every line of a cart, or none: a short line is named in userErrors "
        "and nothing is held. Units are held at the web store's location (when it is fed by "
        "several: at the first sellable location, by code, that has them). Replaying the key "
        "answers with the first reservations.",
    )
    @user_errors_as(_cart_refused)
    async def checkout_reserve(
        self, info: Info, input: CheckoutReserveInput
    ) -> CartReservationsPayload:
        reference = _cart_reference(input.cart_id)
        source = _source(await _webstore_of(info, input.channel_id))
        result = await info.context.container.reservation_desk.reserve_cart(
            lines=[
                hold_requests.LineRequest(sku=ln.sku, quantity=ln.quantity, location_id=source)
                for ln in input.lines
            ],
            key=input.idempotency_key,
            actor=info.context.actor,
            reference=reference,
            expires_in_seconds=input.expires_in_seconds,
        )
        return CartReservationsPayload(
            reservations=[
                Reservation.from_domain(line.reservation)
                for line in result.lines
                if line.reservation is not None
            ],
            replayed=result.replayed,
        )

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Let go of everything a cart holds; returns what this key released. "
        "Safe to retry with the same key, also after a partial failure.",
    )
    @user_errors_as(CartReservationsPayload)
    async def release_cart(self, info: Info, input: ReleaseCartInput) -> CartReservationsPayload:
        key = input.idempotency_key.strip()
        if not 1 <= len(key) <= MAX_RELEASE_KEY:
            raise InvalidInput(
                f"idempotency key must be 1-{MAX_RELEASE_KEY} characters", field="idempotencyKey"
            )
        reference = _cart_reference(input.cart_id)
        await _webstore_of(info, input.channel_id)
        released: list[reservations.ReservationResult] = []
        for held in await _cart_reservations(info, reference):
            # Released ones are tried too: if this key released them, that is a replay.
            if held.status not in (ReservationStatus.ACTIVE, ReservationStatus.RELEASED):
                continue
            try:
                released.append(
                    await reservations.release(
                        info.context.container.uow,
                        reservation_id=held.id,
                        key=f"{key}:{held.id}",
                        actor=info.context.actor,
                        held_by=reference,
                    )
                )
            except IllegalState:
                # Released by another key, expired, or placed as an order meanwhile.
                continue
        return CartReservationsPayload(
            reservations=[Reservation.from_domain(r.reservation) for r in released],
            replayed=bool(released) and all(r.replayed for r in released),
        )


@strawberry.type
class StorefrontSubscription:
    @strawberry.subscription(
        description="A web store channel's quantity of a SKU after each stock change at a "
        "location feeding it (all SKUs, or only those given). A live hint: re-query "
        "storefrontItems after a reconnect."
    )
    async def channel_availability_changed(
        self, info: Info, channel_id: strawberry.ID, skus: list[str] | None = None
    ) -> AsyncGenerator[ChannelAvailabilityChange, None]:
        with query_errors():
            wanted = set(_skus(skus)) if skus else None
            channel = str((await _webstore_of(info, channel_id)).id)
        async with info.context.container.bus.subscribe(STOCK_TOPIC) as events:
            async for event in events:
                if wanted is not None and event["sku"] not in wanted:
                    continue
                for listed in event.get("channels", ()):
                    if listed["channelId"] == channel:
                        yield ChannelAvailabilityChange(
                            sku=event["sku"],
                            channel_id=strawberry.ID(channel),
                            quantity=listed["quantity"],
                            version=event["version"],
                            changed_at=datetime.fromisoformat(event["changedAt"]),
                        )
                        break
