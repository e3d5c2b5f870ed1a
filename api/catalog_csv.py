"""Products from a CSV file: one row per variant, rows of a product joined by their handle.

The first row names the columns; any subset of these, in any order (handle, title, sku,
price and currency are required):

    handle            groups the rows of one product (they need not be next to each other)
    title             product
    description_html  product
    brand             product
    category_id       product: a category's id
    tags              product: "summer|cotton"
    attributes        product: "Material=Cotton|Fit=Regular"
    option1_name      product: "Size" (option2_name, option3_name likewise)
    option1_value     variant: "M", a value of option 1 (option2_value, option3_value likewise)
    sku               variant
    price             variant: "12.99"
    currency          variant: ISO 4217, "EUR"
    cost              variant: in the price's currency
    barcode           variant: GTIN-8/12/13/14
    weight_grams      variant: a whole number
    image_urls        variant: "https://…/a.jpg|https://…/b.jpg", the images showing it

A product's columns are read from its first row. Later rows may leave them empty; a later
row that gives a different value is an error on that row. The product's options are those
named on its first row, their values in the order the rows first use them. Its images are
every row's `image_urls` in order of first mention, each showing the SKUs of the rows that
name it.

Rows are counted as a spreadsheet counts them: the header is row 1, and a cell with line
breaks does not start a new row. A row whose cells are all empty is skipped (a line with no
cells at all, which spreadsheets never write, is skipped and not counted). A product with
any bad row is not imported; errors name the row and the column.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from domain.catalog.model import (
    Attribute,
    Image,
    ProductOption,
    ProductSpec,
    VariantSpec,
)
from domain.errors import DomainError, InvalidFields, InvalidInput
from domain.money import Money, exponent

OPTION_SLOTS: Final = (1, 2, 3)
PRODUCT_COLUMNS: Final = (
    "title",
    "description_html",
    "brand",
    "category_id",
    "tags",
    "attributes",
    *(f"option{n}_name" for n in OPTION_SLOTS),
)
VARIANT_COLUMNS: Final = (
    *(f"option{n}_value" for n in OPTION_SLOTS),
    "sku",
    "price",
    "currency",
    "cost",
    "barcode",
    "weight_grams",
    "image_urls",
)
COLUMNS: Final = ("handle", *PRODUCT_COLUMNS, *VARIANT_COLUMNS)
REQUIRED: Final = ("handle", "title", "sku", "price", "currency")
HEADER_ROW: Final = 1
LIST_SEPARATOR: Final = "|"


class CsvError(Exception):
    """The file cannot be read as a product CSV at all: missing, not UTF-8, or a bad header."""


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None  # None: the row as a whole (it has more cells than the header)
    message: str

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"row {self.row}: {where}{self.message}"


@dataclass(frozen=True, slots=True)
class CsvProduct:
    """One handle's rows, read into a spec (or the error saying why they could not be)."""

    handle: str
    spec: ProductSpec | DomainError
    rows: tuple[int, ...]  # the rows of its variants, in variant order
    image_rows: tuple[int, ...] = ()  # the row first naming each image, in image order
    option_slots: tuple[int, ...] = ()  # which optionN columns each option came from
    errors: tuple[RowError, ...] = ()  # why its rows could not be read (then spec is an error)

    @property
    def first_row(self) -> int:
        return self.rows[0]


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    products: list[CsvProduct]
    errors: list[RowError]  # every row error, in row order (a product's are also on it)

    def errors_by_row(self) -> dict[int, list[RowError]]:
        grouped: dict[int, list[RowError]] = {}
        for error in self.errors:
            grouped.setdefault(error.row, []).append(error)
        return grouped


def read_products(path: Path) -> ParsedCsv:
    """Parse the CSV file at `path`; raises CsvError when it cannot be read at all."""
    try:
        # utf-8-sig: spreadsheets often start their CSV exports with a byte-order mark.
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return parse_products(lines)
    except UnicodeDecodeError as error:
        raise CsvError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise CsvError(f"{path}: {error.strerror or error}") from None


def parse_products(lines: Iterable[str]) -> ParsedCsv:
    """The products of a CSV, in the order their handles first appear, and every row error."""
    reader = csv.DictReader(lines)
    try:
        columns = _header(reader.fieldnames)
        reader.fieldnames = columns
        groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
        errors: list[RowError] = []
        for number, raw in enumerate(reader, start=HEADER_ROW + 1):
            row = _cells(number, raw, columns, errors)
            if row is None:
                continue
            handle = row["handle"]
            if not handle:
                errors.append(RowError(number, "handle", "a handle is required"))
                continue
            groups.setdefault(handle, []).append((number, row))
    except csv.Error as error:
        raise CsvError(f"line {reader.line_num}: {error}") from None
    products = []
    for handle, rows in groups.items():
        product = _product(handle, rows)
        products.append(product)
        errors.extend(product.errors)
    errors.sort(key=_reading_order)
    return ParsedCsv(products, errors)


def _reading_order(error: RowError) -> tuple[int, int]:
    """By row, then in the order the columns are documented."""
    return error.row, COLUMNS.index(error.column) if error.column in COLUMNS else -1


def _header(names: Sequence[str] | None) -> list[str]:
    if not names:
        raise CsvError("the file is empty: its first row names the columns")
    columns = [name.strip() for name in names]
    problems = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(f"column(s) given twice: {', '.join(repeated)}")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    for n in OPTION_SLOTS:
        name, value = f"option{n}_name", f"option{n}_value"
        if (name in columns) != (value in columns):
            problems.append(f"{name} and {value} go together")
    if problems:
        raise CsvError(f"header (row {HEADER_ROW}): {'; '.join(problems)}")
    return columns


def _cells(
    number: int,
    raw: dict[str | None, str | list[str] | None],
    columns: list[str],
    errors: list[RowError],
) -> dict[str, str] | None:
    """The row's cells by column, every known column present; None for an empty or bad row."""
    extra = raw.get(None) or []
    cells = [raw.get(c) for c in columns]
    if not any(isinstance(v, str) and v.strip() for v in [*cells, *extra]):
        return None
    if extra:
        errors.append(
            RowError(number, None, f"the row has more cells than the header's {len(columns)}")
        )
        return None
    row = dict.fromkeys(COLUMNS, "")
    for column, value in zip(columns, cells, strict=True):
        if not isinstance(value, str):
            errors.append(RowError(number, column, "the row ends before this column"))
            return None
        row[column] = value
    row["handle"] = row["handle"].strip()
    return row


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


@dataclass
class _Reading:
    """One product's rows being read; every fault is kept with its row and column."""

    first: int
    errors: list[RowError]

    def fault(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))


def _product(handle: str, rows: list[tuple[int, dict[str, str]]]) -> CsvProduct:
    first_number, first = rows[0]
    reading = _Reading(first_number, [])
    for number, row in rows[1:]:
        for column in PRODUCT_COLUMNS:
            value = row[column].strip()
            if value and value != first[column].strip():
                reading.fault(
                    number, column, f"differs from the product's first row (row {first_number})"
                )
    slots = tuple(n for n in OPTION_SLOTS if first[f"option{n}_name"].strip())
    values: dict[int, dict[str, None]] = {n: {} for n in slots}
    variants: list[VariantSpec] = []
    images: dict[str, tuple[int, list[str]]] = {}
    for number, row in rows:
        variant = _variant(number, row, first, reading)
        if variant is not None:
            variants.append(variant)
            for n, value in zip(slots, variant.option_values, strict=True):
                values[n].setdefault(value, None)
        sku = row["sku"].strip()
        for url in _split(row["image_urls"]):
            named = images.setdefault(url, (number, []))[1]
            if sku and sku not in named:
                named.append(sku)
    category_id = _category(first["category_id"].strip(), reading)
    attributes = _attributes(first["attributes"], reading)
    row_numbers = tuple(n for n, _ in rows)
    image_rows = tuple(row for row, _ in images.values())
    if reading.errors:
        found = sorted(reading.errors, key=_reading_order)
        failed: list[DomainError] = [
            InvalidInput(f"row {e.row}: {e.message}", field=e.column) for e in found
        ]
        error = failed[0] if len(failed) == 1 else InvalidFields(failed)
        return CsvProduct(handle, error, row_numbers, image_rows, slots, tuple(found))
    spec = ProductSpec(
        handle=handle,
        title=first["title"],
        description_html=first["description_html"],
        brand=first["brand"].strip() or None,
        category_id=category_id,
        tags=tuple(_split(first["tags"])),
        attributes=attributes,
        options=tuple(
            ProductOption(first[f"option{n}_name"].strip(), tuple(values[n])) for n in slots
        ),
        images=tuple(
            Image(url=url, position=position, skus=tuple(skus))
            for position, (url, (_, skus)) in enumerate(images.items())
        ),
        variants=tuple(variants),
    )
    return CsvProduct(handle, spec, row_numbers, image_rows, slots)


def _variant(
    number: int, row: dict[str, str], first: dict[str, str], reading: _Reading
) -> VariantSpec | None:
    found = len(reading.errors)
    sku = row["sku"].strip()
    if not sku:
        reading.fault(number, "sku", "a SKU is required")
    option_values = []
    for n in OPTION_SLOTS:
        name = first[f"option{n}_name"].strip()
        column, value = f"option{n}_value", row[f"option{n}_value"].strip()
        if name and not value:
            reading.fault(number, column, f"a value of option {name!r} is required")
        elif value and not name:
            reading.fault(
                number, column, f"option{n}_name is empty on the product's row {reading.first}"
            )
        elif value:
            option_values.append(value)
    currency = row["currency"].strip().upper()
    price = cost = None
    if not currency:
        reading.fault(number, "currency", "a currency is required")
    else:
        try:
            exponent(currency)
        except InvalidInput as error:
            reading.fault(number, "currency", error.message)
            currency = ""
    if not row["price"].strip():
        reading.fault(number, "price", "a price is required")
    elif currency:
        price = _money(number, "price", row["price"], currency, reading)
    if row["cost"].strip() and currency:
        cost = _money(number, "cost", row["cost"], currency, reading)
    weight = None
    if row["weight_grams"].strip():
        try:
            weight = int(row["weight_grams"].strip())
        except ValueError:
            reading.fault(number, "weight_grams", "a weight is a whole number of grams")
    if len(reading.errors) > found or price is None:
        return None
    return VariantSpec(
        sku=sku,
        option_values=tuple(option_values),
        price=price,
        barcode=row["barcode"].strip() or None,
        cost=cost,
        weight_grams=weight,
    )


def _money(number: int, column: str, amount: str, currency: str, reading: _Reading) -> Money | None:
    try:
        return Money.parse(amount, currency, field=column)
    except DomainError as error:
        reading.fault(number, column, error.message)
        return None


def _category(value: str, reading: _Reading) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        reading.fault(reading.first, "category_id", f"{value!r} is not a category id")
        return None


def _attributes(value: str, reading: _Reading) -> tuple[Attribute, ...]:
    attributes = []
    for part in _split(value):
        name, equals, text = part.partition("=")
        if not equals:
            reading.fault(reading.first, "attributes", f"{part!r} is not Name=Value")
            continue
        attributes.append(Attribute(name.strip(), text.strip()))
    return tuple(attributes)


_PATH = re.compile(r"^(?P<list>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<part>\w+))?$")
_PRODUCT_FIELDS: Final = {
    "handle": "handle",
    "title": "title",
    "descriptionHtml": "description_html",
    "description_html": "description_html",
    "brand": "brand",
    "categoryId": "category_id",
    "category_id": "category_id",
    "tags": "tags",
    "attributes": "attributes",
}
_VARIANT_FIELDS: Final = {
    "sku": "sku",
    "price": "price",
    "cost": "cost",
    "barcode": "barcode",
    "weightGrams": "weight_grams",
}


def row_errors(product: CsvProduct, errors: Sequence[DomainError]) -> list[RowError]:
    """`errors` about the product (fields as the API names them) at the rows and columns
    the CSV gave them in: `variants[2].barcode` is the barcode column of the third row."""
    located = []
    for error in errors:
        for one in getattr(error, "errors", None) or [error]:
            row, column = _locate(product, one.field)
            located.append(RowError(row, column, one.message))
    return located


def _locate(product: CsvProduct, field: str | None) -> tuple[int, str]:
    """The row and column of a field: an API path (`variants[1].sku`) or a CSV column."""
    if field is None:
        return product.first_row, "handle"
    if field in COLUMNS:
        return product.first_row, field
    match = _PATH.match(field)
    if match is None:
        return product.first_row, field
    name, index, part = match["list"], match["index"], match["part"]
    n = int(index) if index is not None else None

    def at(rows: tuple[int, ...]) -> int:
        return rows[n] if n is not None and n < len(rows) else product.first_row

    if name == "variants":
        if part == "optionValues":
            slot = product.option_slots[0] if product.option_slots else 1
            return at(product.rows), f"option{slot}_value"
        return at(product.rows), _VARIANT_FIELDS.get(part or "", "sku")
    if name == "images":
        return at(product.image_rows), "image_urls"
    if name == "options":
        slots = product.option_slots
        slot = slots[n] if n is not None and n < len(slots) else 1
        return product.first_row, f"option{slot}_{'value' if part == 'values' else 'name'}"
    return product.first_row, _PRODUCT_FIELDS.get(name, field)
