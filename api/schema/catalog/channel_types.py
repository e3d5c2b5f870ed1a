"""How a channel's catalog configuration reads in the API (credentials: only whether set)."""

from __future__ import annotations

import strawberry

from api.schema.catalog.types import Money
from domain.channels.config import ChannelConfig


@strawberry.type
class PriceRule:
    markup_percent: str
    fixed_amount: Money | None
    rounding: str
    charm_ending: str | None
    min_margin_percent: str | None


@strawberry.type
class Mapping:
    source: str
    target: str


@strawberry.type
class ListingRule:
    selector_kind: str
    selector_values: list[str]
    title_template: str
    title_limit: int | None
    description_format: str
    category_map: list[Mapping]
    attribute_map: list[Mapping]
    required_attributes: list[str]
    image_limit: int | None
    require_gtin: bool
    settings: list[Mapping]


@strawberry.type(description="A channel's catalog side.")
class ChannelCatalogConfig:
    sync_enabled: bool
    credentials_set: bool
    price_rule: PriceRule | None
    listing_rule: ListingRule

    @classmethod
    def from_domain(cls, config: ChannelConfig) -> ChannelCatalogConfig:
        price = config.price_rule
        rule = config.listing_rule
        return cls(
            sync_enabled=config.sync_enabled,
            credentials_set=config.credentials_set,
            price_rule=PriceRule(
                markup_percent=str(price.markup_percent),
                fixed_amount=Money.maybe(price.fixed_amount),
                rounding=price.rounding.mode.value,
                charm_ending=str(price.rounding.ending) if price.rounding.ending else None,
                min_margin_percent=str(price.min_margin_percent)
                if price.min_margin_percent is not None
                else None,
            )
            if price
            else None,
            listing_rule=ListingRule(
                selector_kind=rule.selector.kind.value,
                selector_values=list(rule.selector.values),
                title_template=rule.title_template,
                title_limit=rule.title_limit,
                description_format=rule.description_format.value,
                category_map=[Mapping(source=k, target=v) for k, v in rule.category_map.items()],
                attribute_map=[Mapping(source=k, target=v) for k, v in rule.attribute_map.items()],
                required_attributes=list(rule.required_attributes),
                image_limit=rule.image_limit,
                require_gtin=rule.require_gtin,
                settings=[Mapping(source=k, target=v) for k, v in rule.settings.items()],
            ),
        )
