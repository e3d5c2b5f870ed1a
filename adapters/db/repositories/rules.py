"""Price and listing rules as JSON documents, and back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.channels.config import PriceRuleSpec
from domain.channels.listing import DescriptionFormat, ListingRule, Selector, SelectorKind
from domain.channels.pricing import Rounding, RoundingMode
from domain.money import Money


def price_rule_document(rule: PriceRuleSpec) -> dict[str, Any]:
    fixed = rule.fixed_amount
    return {
        "markupPercent": str(rule.markup_percent),
        "fixedAmount": [fixed.minor, fixed.currency] if fixed else None,
        "rounding": {
            "mode": rule.rounding.mode.value,
            "ending": str(rule.rounding.ending) if rule.rounding.ending is not None else None,
        },
        "minMarginPercent": (
            str(rule.min_margin_percent) if rule.min_margin_percent is not None else None
        ),
    }


def price_rule_of(document: dict[str, Any]) -> PriceRuleSpec:
    fixed = document.get("fixedAmount")
    rounding = document["rounding"]
    margin = document.get("minMarginPercent")
    return PriceRuleSpec(
        markup_percent=Decimal(document["markupPercent"]),
        fixed_amount=Money(fixed[0], fixed[1]) if fixed else None,
        rounding=Rounding(
            RoundingMode(rounding["mode"]),
            Decimal(rounding["ending"]) if rounding.get("ending") is not None else None,
        ),
        min_margin_percent=Decimal(margin) if margin is not None else None,
    )


def listing_rule_document(rule: ListingRule) -> dict[str, Any]:
    return {
        "selector": {"kind": rule.selector.kind.value, "values": list(rule.selector.values)},
        "titleTemplate": rule.title_template,
        "titleLimit": rule.title_limit,
        "descriptionFormat": rule.description_format.value,
        "categoryMap": dict(rule.category_map),
        "attributeMap": dict(rule.attribute_map),
        "requiredAttributes": list(rule.required_attributes),
        "imageLimit": rule.image_limit,
        "requireGtin": rule.require_gtin,
        "settings": dict(rule.settings),
    }


def listing_rule_of(document: dict[str, Any]) -> ListingRule:
    selector = document["selector"]
    return ListingRule(
        selector=Selector(SelectorKind(selector["kind"]), tuple(selector["values"])),
        title_template=document["titleTemplate"],
        title_limit=document.get("titleLimit"),
        description_format=DescriptionFormat(document["descriptionFormat"]),
        category_map=dict(document.get("categoryMap", {})),
        attribute_map=dict(document.get("attributeMap", {})),
        required_attributes=tuple(document.get("requiredAttributes", ())),
        image_limit=document.get("imageLimit"),
        require_gtin=bool(document.get("requireGtin", False)),
        settings=dict(document.get("settings", {})),
    )
