"""Checking a product as the merchant wrote it: every fault is reported, by field, at once."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from domain.catalog.gtin import parse_gtin
from domain.catalog.model import Attribute, Image, ProductOption, ProductSpec, VariantSpec
from domain.errors import DomainError, InvalidFields, InvalidInput
from domain.sku import check_sku

MAX_HANDLE: Final = 255
MAX_TITLE: Final = 255
MAX_DESCRIPTION: Final = 65_536
MAX_BRAND: Final = 100
MAX_TAG: Final = 64
MAX_TAGS: Final = 250
MAX_OPTIONS: Final = 5
MAX_VARIANTS: Final = 2048
MAX_IMAGES: Final = 250
MAX_URL: Final = 2048
MAX_NAME: Final = 100
MAX_VALUE: Final = 1000

_HANDLE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def handle_from(title: str) -> str:
    """A URL-safe handle from a title: "Café Shirt (Red)" -> "cafe-shirt-red"."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:MAX_HANDLE].strip("-")


def check_product(spec: ProductSpec, *, field: str = "") -> ProductSpec:
    """The spec, trimmed and normalised; raises InvalidFields naming every field at fault."""
    errors: list[DomainError] = []

    def at(name: str) -> str:
        return f"{field}{name}"

    title = spec.title.strip()
    if not title or len(title) > MAX_TITLE:
        errors.append(InvalidInput(f"a title is 1-{MAX_TITLE} characters", field=at("title")))
    handle = spec.handle.strip() or handle_from(title)
    if not _HANDLE.match(handle) or len(handle) > MAX_HANDLE:
        errors.append(
            InvalidInput(
                "a handle is lowercase letters, digits and single hyphens", field=at("handle")
            )
        )
    if len(spec.description_html) > MAX_DESCRIPTION:
        errors.append(
            InvalidInput(
                f"a description has at most {MAX_DESCRIPTION} characters",
                field=at("descriptionHtml"),
            )
        )
    brand = (spec.brand or "").strip() or None
    if brand is not None and len(brand) > MAX_BRAND:
        errors.append(
            InvalidInput(f"a brand has at most {MAX_BRAND} characters", field=at("brand"))
        )
    tags = _tags(spec.tags, at("tags"), errors)
    attributes = _attributes(spec.attributes, at("attributes"), errors)
    options = _options(spec.options, at("options"), errors)
    variants = _variants(spec.variants, options, at("variants"), errors)
    # Images are checked against every SKU given, valid or not: one bad variant is one error.
    given = {v.sku.strip() for v in spec.variants}
    images = _images(spec.images, given, at("images"), errors)
    InvalidFields.raise_if_any(errors)
    return replace(
        spec,
        handle=handle,
        title=title,
        brand=brand,
        tags=tags,
        attributes=attributes,
        options=options,
        variants=variants,
        images=images,
    )


def _tags(tags: tuple[str, ...], field: str, errors: list[DomainError]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for i, tag in enumerate(tags):
        tag = tag.strip()
        if not tag or len(tag) > MAX_TAG:
            errors.append(InvalidInput(f"a tag is 1-{MAX_TAG} characters", field=f"{field}[{i}]"))
        seen.setdefault(tag, None)
    if len(seen) > MAX_TAGS:
        errors.append(InvalidInput(f"at most {MAX_TAGS} tags", field=field))
    return tuple(seen)


def _name_value_errors(
    name: str, value: str, field: str, errors: list[DomainError], names: set[str]
) -> None:
    if not name or len(name) > MAX_NAME:
        errors.append(InvalidInput(f"a name is 1-{MAX_NAME} characters", field=f"{field}.name"))
    elif name in names:
        errors.append(InvalidInput(f"{name!r} is given twice", field=f"{field}.name"))
    names.add(name)
    if not value or len(value) > MAX_VALUE:
        errors.append(InvalidInput(f"a value is 1-{MAX_VALUE} characters", field=f"{field}.value"))


def _attributes(
    attributes: tuple[Attribute, ...], field: str, errors: list[DomainError]
) -> tuple[Attribute, ...]:
    names: set[str] = set()
    result = []
    for i, attribute in enumerate(attributes):
        name, value = attribute.name.strip(), attribute.value.strip()
        _name_value_errors(name, value, f"{field}[{i}]", errors, names)
        result.append(Attribute(name, value))
    return tuple(result)


def _options(
    options: tuple[ProductOption, ...], field: str, errors: list[DomainError]
) -> tuple[ProductOption, ...]:
    if len(options) > MAX_OPTIONS:
        errors.append(InvalidInput(f"a product has at most {MAX_OPTIONS} options", field=field))
    names: set[str] = set()
    result = []
    for i, option in enumerate(options):
        name = option.name.strip()
        if not name or len(name) > MAX_NAME:
            errors.append(
                InvalidInput(
                    f"an option name is 1-{MAX_NAME} characters", field=f"{field}[{i}].name"
                )
            )
        elif name in names:
            errors.append(
                InvalidInput(f"option {name!r} is given twice", field=f"{field}[{i}].name")
            )
        names.add(name)
        values = tuple(v.strip() for v in option.values)
        if not values or any(not v or len(v) > MAX_NAME for v in values):
            errors.append(
                InvalidInput(
                    f"an option has one or more values of 1-{MAX_NAME} characters",
                    field=f"{field}[{i}].values",
                )
            )
        elif len(set(values)) != len(values):
            errors.append(InvalidInput("an option value is repeated", field=f"{field}[{i}].values"))
        result.append(ProductOption(name, values))
    return tuple(result)


def _variants(
    variants: tuple[VariantSpec, ...],
    options: tuple[ProductOption, ...],
    field: str,
    errors: list[DomainError],
) -> tuple[VariantSpec, ...]:
    if not variants:
        errors.append(InvalidInput("a product has at least one variant", field=field))
    if len(variants) > MAX_VARIANTS:
        errors.append(InvalidInput(f"a product has at most {MAX_VARIANTS} variants", field=field))
    skus: set[str] = set()
    combinations: dict[tuple[str, ...], int] = {}
    result = []
    for i, variant in enumerate(variants):
        here = f"{field}[{i}]"
        found = len(errors)
        try:
            sku = check_sku(variant.sku, field=f"{here}.sku")
        except InvalidInput as error:
            errors.append(error)
            sku = variant.sku
        if sku in skus:
            errors.append(InvalidInput(f"SKU {sku!r} is given twice", field=f"{here}.sku"))
        skus.add(sku)
        values = tuple(v.strip() for v in variant.option_values)
        if len(values) != len(options):
            names = ", ".join(o.name for o in options) or "none"
            errors.append(
                InvalidInput(
                    f"a variant has one value per option ({names}), got {len(values)}",
                    field=f"{here}.optionValues",
                )
            )
        else:
            for option, value in zip(options, values, strict=True):
                if value not in option.values:
                    errors.append(
                        InvalidInput(
                            f"{value!r} is not a value of option {option.name!r}",
                            field=f"{here}.optionValues",
                        )
                    )
            if values in combinations:
                errors.append(
                    InvalidInput(
                        f"the combination {' / '.join(values) or '(none)'} repeats variant "
                        f"{combinations[values]}",
                        field=f"{here}.optionValues",
                    )
                )
            combinations.setdefault(values, i)
        _money_errors(variant, here, errors)
        barcode = _barcode(variant.barcode, f"{here}.barcode", errors)
        if len(errors) == found:
            result.append(replace(variant, sku=sku, option_values=values, barcode=barcode))
    return tuple(result)


def _money_errors(variant: VariantSpec, here: str, errors: list[DomainError]) -> None:
    if variant.price.minor < 0:
        errors.append(InvalidInput("a price cannot be negative", field=f"{here}.price"))
    if variant.cost is not None:
        if variant.cost.minor < 0:
            errors.append(InvalidInput("a cost cannot be negative", field=f"{here}.cost"))
        if variant.cost.currency != variant.price.currency:
            errors.append(
                InvalidInput("cost and price are in the same currency", field=f"{here}.cost")
            )
    if variant.weight_grams is not None and variant.weight_grams < 0:
        errors.append(InvalidInput("a weight cannot be negative", field=f"{here}.weightGrams"))
    dims = variant.dimensions
    if dims is not None and min(dims.length_mm, dims.width_mm, dims.height_mm) <= 0:
        errors.append(InvalidInput("dimensions are positive", field=f"{here}.dimensions"))


def _barcode(barcode: str | None, field: str, errors: list[DomainError]) -> str | None:
    if barcode is None or not barcode.strip():
        return None
    try:
        return parse_gtin(barcode, field=field)
    except InvalidInput as error:
        errors.append(error)
        return None


def _images(
    images: tuple[Image, ...], skus: set[str], field: str, errors: list[DomainError]
) -> tuple[Image, ...]:
    if len(images) > MAX_IMAGES:
        errors.append(InvalidInput(f"at most {MAX_IMAGES} images", field=field))
    result = []
    for i, image in enumerate(images):
        url = image.url.strip()
        if not url.startswith(("https://", "http://")) or len(url) > MAX_URL or " " in url:
            errors.append(InvalidInput("an image URL is http(s)://…", field=f"{field}[{i}].url"))
        unknown = [s for s in image.skus if s not in skus]
        if unknown:
            errors.append(
                InvalidInput(
                    f"the image shows SKUs this product has not: {', '.join(unknown)}",
                    field=f"{field}[{i}].skus",
                )
            )
        result.append(replace(image, url=url, alt_text=(image.alt_text or "").strip() or None))
    ordered = sorted(enumerate(result), key=lambda pair: (pair[1].position, pair[0]))
    return tuple(replace(image, position=n) for n, (_, image) in enumerate(ordered))


def spec_hash(spec: ProductSpec) -> str:
    """A stable fingerprint of the content: equal specs, equal hashes."""
    # By hand, not dataclasses.asdict: it runs for every product of every bulk upsert.
    content = [
        spec.handle,
        spec.title,
        spec.description_html,
        spec.brand,
        str(spec.category_id) if spec.category_id else None,
        spec.tags,
        [[a.name, a.value] for a in spec.attributes],
        [[o.name, o.values] for o in spec.options],
        [[i.url, i.alt_text, i.position, i.skus] for i in spec.images],
        [
            [v.sku, v.option_values, v.price.minor, v.price.currency, v.barcode,
             [v.cost.minor, v.cost.currency] if v.cost else None, v.weight_grams,
             [v.dimensions.length_mm, v.dimensions.width_mm, v.dimensions.height_mm]
             if v.dimensions else None]
            for v in spec.variants
        ],
    ]  # fmt: skip
    encoded = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def iter_skus(specs: list[ProductSpec]) -> Iterator[str]:
    for spec in specs:
        for variant in spec.variants:
            yield variant.sku
