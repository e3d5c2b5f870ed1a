"""A channel's catalog settings: price rule, rates, overrides, sales, listing rule, credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation

import strawberry

from api.schema.catalog.inputs import MoneyInput, money
from api.schema.catalog.types import ChannelPrice
from api.schema.channels import Channel
from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import compound_key, parse_id
from api.schema.permissions import CanMutate
from domain.catalog import channel_settings
from domain.channels.config import PriceRuleSpec
from domain.channels.listing import DEFAULT_TITLE_TEMPLATE, Selector
from domain.channels.listing import DescriptionFormat as DomainDescriptionFormat
from domain.channels.listing import ListingRule as DomainListingRule
from domain.channels.listing import SelectorKind as DomainSelectorKind
from domain.channels.pricing import Rounding, SalePrice
from domain.channels.pricing import RoundingMode as DomainRoundingMode
from domain.clock import utcnow
from domain.errors import InvalidInput

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
RoundingMode = DomainRoundingMode
strawberry.enum(RoundingMode, name="RoundingMode")
SelectorKind = DomainSelectorKind
strawberry.enum(SelectorKind, name="ListingSelectorKind")
DescriptionFormat = DomainDescriptionFormat
strawberry.enum(DescriptionFormat, name="DescriptionFormat")


def decimal(value: str, field: str) -> Decimal:
    try:
        parsed = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidInput(f"{value!r} is not a decimal number", field=field) from None
    if not parsed.is_finite():
        raise InvalidInput(f"{value!r} is not a decimal number", field=field)
    return parsed


@strawberry.input
class SetPriceRuleInput:
    channel_id: strawberry.ID
    markup_percent: str = strawberry.field(default="0", description='e.g. "15" or "-5".')
    fixed_amount: MoneyInput | None = strawberry.field(
        default=None, description="Added after the markup, in the base price's currency."
    )
    rounding: RoundingMode = DomainRoundingMode.NONE
    charm_ending: str | None = strawberry.field(
        default=None, description='CHARM rounding: the fraction prices end in, e.g. "0.99".'
    )
    min_margin_percent: str | None = strawberry.field(
        default=None, description="Floor: never below cost x (1 + margin)."
    )


@strawberry.input
class SetCurrencyRateInput:
    from_currency: str
    to_currency: str
    rate: str = strawberry.field(description="Units of `toCurrency` per unit of `fromCurrency`.")


@strawberry.type
class CurrencyRate:
    from_currency: str
    to_currency: str
    rate: str

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(compound_key(self.from_currency, self.to_currency))


@strawberry.type
class CurrencyRatePayload:
    rate: CurrencyRate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetSkuPriceOverrideInput:
    channel_id: strawberry.ID
    sku: str
    price: MoneyInput | None = strawberry.field(default=None, description="Null removes it.")


@strawberry.input
class ScheduleSalePriceInput:
    channel_id: strawberry.ID
    sku: str
    price: MoneyInput | None = strawberry.field(default=None, description="Null cancels the sale.")
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@strawberry.type
class ChannelPricePayload:
    channel_price: ChannelPrice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ListingSelectorInput:
    kind: SelectorKind
    values: list[str] = strawberry.field(
        default_factory=list, description="Tags, category ids or brands, by kind."
    )


@strawberry.input
class CategoryMappingInput:
    category_id: strawberry.ID
    channel_category_id: str


@strawberry.input
class AttributeMappingInput:
    attribute: str
    channel_attribute: str


@strawberry.input
class SettingInput:
    name: str
    value: str


@strawberry.input
class SetListingRuleInput:
    channel_id: strawberry.ID
    selector: ListingSelectorInput
    title_template: str = DEFAULT_TITLE_TEMPLATE
    title_limit: int | None = strawberry.field(default=None, description="Default: the channel's.")
    description_format: DescriptionFormat = DomainDescriptionFormat.HTML
    category_map: list[CategoryMappingInput] = strawberry.field(default_factory=list)
    attribute_map: list[AttributeMappingInput] = strawberry.field(default_factory=list)
    required_attributes: list[str] = strawberry.field(default_factory=list)
    image_limit: int | None = strawberry.field(default=None, description="Default: the channel's.")
    require_gtin: bool = False
    settings: list[SettingInput] = strawberry.field(
        default_factory=list,
        description="Channel-specific: Amazon sellerId, marketplaceId, productType; eBay "
        "marketplaceId, merchantLocationKey, policy ids; MercadoLibre listingTypeId.",
    )


@strawberry.input
class SetChannelCredentialsInput:
    channel_id: strawberry.ID
    credentials: list[SettingInput]


@strawberry.input
class SetChannelSyncInput:
    channel_id: strawberry.ID
    enabled: bool


@strawberry.type
class ChannelSettingsPayload:
    channel: Channel | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _channel(info: Info, channel_id: uuid.UUID) -> Channel:
    async with info.context.container.uow(readonly=True) as uow:
        found = await uow.channels.get(channel_id)
    assert found is not None
    return Channel.from_domain(found)


async def _price(info: Info, channel_id: uuid.UUID, sku: str) -> ChannelPrice:
    async with info.context.container.uow(readonly=True) as uow:
        price = await channel_settings.price_for(uow, sku=sku, channel_id=channel_id, now=utcnow())
    return ChannelPrice.from_domain(sku, channel_id, price)


@strawberry.type
class ChannelSettingsMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelSettingsPayload)
    async def set_price_rule(self, info: Info, input: SetPriceRuleInput) -> ChannelSettingsPayload:
        container = info.context.container
        channel_id = parse_id(input.channel_id, "channelId")
        ending = decimal(input.charm_ending, "charmEnding") if input.charm_ending else None
        margin = input.min_margin_percent
        rule = PriceRuleSpec(
            markup_percent=decimal(input.markup_percent, "markupPercent"),
            fixed_amount=money(input.fixed_amount, "fixedAmount") if input.fixed_amount else None,
            rounding=Rounding(DomainRoundingMode(input.rounding.value), ending),
            min_margin_percent=decimal(margin, "minMarginPercent") if margin else None,
        )
        async with container.uow() as uow:
            await channel_settings.set_price_rule(
                uow, channel_id, rule, container.listing_formats, now=utcnow()
            )
            await uow.commit()
        return ChannelSettingsPayload(channel=await _channel(info, channel_id))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(CurrencyRatePayload)
    async def set_currency_rate(
        self, info: Info, input: SetCurrencyRateInput
    ) -> CurrencyRatePayload:
        container = info.context.container
        source, target = input.from_currency.strip().upper(), input.to_currency.strip().upper()
        rate = decimal(input.rate, "rate")
        async with container.uow() as uow:
            await channel_settings.set_currency_rate(
                uow,
                source=source,
                target=target,
                rate=rate,
                formats=container.listing_formats,
                now=utcnow(),
            )
            await uow.commit()
        return CurrencyRatePayload(
            rate=CurrencyRate(from_currency=source, to_currency=target, rate=str(rate))
        )

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelPricePayload)
    async def set_sku_price_override(
        self, info: Info, input: SetSkuPriceOverrideInput
    ) -> ChannelPricePayload:
        container = info.context.container
        channel_id = parse_id(input.channel_id, "channelId")
        price = money(input.price, "price") if input.price else None
        async with container.uow() as uow:
            await channel_settings.set_sku_price_override(
                uow,
                channel_id=channel_id,
                sku=input.sku,
                price=price,
                formats=container.listing_formats,
                now=utcnow(),
            )
            await uow.commit()
        return ChannelPricePayload(channel_price=await _price(info, channel_id, input.sku))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelPricePayload)
    async def schedule_sale_price(
        self, info: Info, input: ScheduleSalePriceInput
    ) -> ChannelPricePayload:
        container = info.context.container
        channel_id = parse_id(input.channel_id, "channelId")
        sale = None
        if input.price is not None:
            starts = input.starts_at or utcnow()
            if starts.tzinfo is None or (input.ends_at and input.ends_at.tzinfo is None):
                raise InvalidInput("times carry a UTC offset", field="startsAt")
            sale = SalePrice(money(input.price, "price"), starts, input.ends_at)
        async with container.uow() as uow:
            await channel_settings.schedule_sale_price(
                uow,
                channel_id=channel_id,
                sku=input.sku,
                sale=sale,
                formats=container.listing_formats,
                now=utcnow(),
            )
            await uow.commit()
        return ChannelPricePayload(channel_price=await _price(info, channel_id, input.sku))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelSettingsPayload)
    async def set_listing_rule(
        self, info: Info, input: SetListingRuleInput
    ) -> ChannelSettingsPayload:
        container = info.context.container
        channel_id = parse_id(input.channel_id, "channelId")
        category_map = {
            str(parse_id(m.category_id, "categoryMap")): m.channel_category_id.strip()
            for m in input.category_map
        }
        rule = DomainListingRule(
            selector=Selector(
                DomainSelectorKind(input.selector.kind.value),
                tuple(v.strip() for v in input.selector.values),
            ),
            title_template=input.title_template,
            title_limit=input.title_limit,
            description_format=DomainDescriptionFormat(input.description_format.value),
            category_map=category_map,
            attribute_map={m.attribute: m.channel_attribute for m in input.attribute_map},
            required_attributes=tuple(input.required_attributes),
            image_limit=input.image_limit,
            require_gtin=input.require_gtin,
            settings={s.name: s.value for s in input.settings},
        )
        async with container.uow() as uow:
            await channel_settings.set_listing_rule(
                uow, channel_id, rule, container.listing_formats, now=utcnow()
            )
            await uow.commit()
        return ChannelSettingsPayload(channel=await _channel(info, channel_id))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Store credentials encrypted; the API only ever says whether they are set.",
    )
    @user_errors_as(ChannelSettingsPayload)
    async def set_channel_credentials(
        self, info: Info, input: SetChannelCredentialsInput
    ) -> ChannelSettingsPayload:
        container = info.context.container
        channel_id = parse_id(input.channel_id, "channelId")
        credentials = {c.name.strip(): c.value for c in input.credentials}
        async with container.uow() as uow:
            await channel_settings.set_channel_credentials(
                uow, channel_id, credentials, container.secrets, now=utcnow()
            )
            await uow.commit()
        return ChannelSettingsPayload(channel=await _channel(info, channel_id))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelSettingsPayload)
    async def set_channel_sync(
        self, info: Info, input: SetChannelSyncInput
    ) -> ChannelSettingsPayload:
        channel_id = parse_id(input.channel_id, "channelId")
        async with info.context.container.uow() as uow:
            await channel_settings.set_sync_enabled(uow, channel_id, input.enabled, now=utcnow())
            await uow.commit()
        return ChannelSettingsPayload(channel=await _channel(info, channel_id))
