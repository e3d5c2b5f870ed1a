"""Reading products from a CSV: grouping rows by handle, options, images, errors by row."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from api.catalog_csv import (
    CsvError,
    CsvProduct,
    ParsedCsv,
    RowError,
    parse_products,
    read_products,
    row_errors,
)
from domain.catalog.model import Attribute, Image, ProductOption, ProductSpec
from domain.catalog.specs import check_product
from domain.errors import AlreadyExists, DomainError, InvalidInput
from domain.money import Money

HEADER = "handle,title,option1_name,option1_value,sku,price,currency,barcode,image_urls"


def parse(*lines: str, header: str = HEADER) -> ParsedCsv:
    return parse_products(io.StringIO("\n".join([header, *lines]) + "\n"))


def spec_of(product: CsvProduct) -> ProductSpec:
    assert isinstance(product.spec, ProductSpec), product.errors
    return product.spec


def test_rows_are_grouped_by_handle_in_first_seen_order_even_when_apart() -> None:
    parsed = parse(
        "tee,Tee,Size,S,TEE-S,10.00,EUR,,",
        "mug,Mug,,,MUG-1,5,EUR,,",
        "tee,,,M,TEE-M,10.00,EUR,,",
    )

    assert parsed.errors == []
    assert [p.handle for p in parsed.products] == ["tee", "mug"]
    tee, mug = parsed.products
    assert tee.rows == (2, 4)
    assert [v.sku for v in spec_of(tee).variants] == ["TEE-S", "TEE-M"]
    assert mug.rows == (3,)
    assert spec_of(mug).options == ()
    assert spec_of(mug).variants[0].option_values == ()


def test_options_are_named_on_the_first_row_with_values_in_the_order_rows_use_them() -> None:
    header = "handle,title,option1_name,option1_value,option2_name,option2_value,sku,price,currency"
    parsed = parse(
        "tee,Tee,Size,M,Color,Red,T-M-R,10,EUR",
        "tee,Tee,Size,S,Color,Red,T-S-R,10,EUR",
        "tee,,,M,,Blue,T-M-B,10,EUR",
        header=header,
    )

    spec = spec_of(parsed.products[0])
    assert spec.options == (
        ProductOption("Size", ("M", "S")),
        ProductOption("Color", ("Red", "Blue")),
    )
    assert [v.option_values for v in spec.variants] == [("M", "Red"), ("S", "Red"), ("M", "Blue")]


def test_product_columns_come_from_the_first_row() -> None:
    header = (
        "handle,title,description_html,brand,category_id,tags,attributes,sku,price,currency,"
        "cost,barcode,weight_grams"
    )
    category = uuid.uuid4()
    parsed = parse(
        f"tee,Tee,<p>Soft</p>,Acme,{category},summer| cotton |,"
        "Material=Cotton|Fit = Regular,TEE-1,12.99,usd,4.50,4006381333931,180",
        header=header,
    )

    spec = spec_of(parsed.products[0])
    assert (spec.title, spec.description_html, spec.brand) == ("Tee", "<p>Soft</p>", "Acme")
    assert spec.category_id == category
    assert spec.tags == ("summer", "cotton")
    assert spec.attributes == (Attribute("Material", "Cotton"), Attribute("Fit", "Regular"))
    (variant,) = spec.variants
    assert variant.price == Money(1299, "USD")
    assert variant.cost == Money(450, "USD")
    assert variant.barcode == "4006381333931"
    assert variant.weight_grams == 180


def test_product_images_are_the_union_of_the_rows_images_each_showing_the_rows_naming_it() -> None:
    parsed = parse(
        "tee,Tee,Size,S,TEE-S,10,EUR,,https://x.test/front.jpg|https://x.test/s.jpg",
        "tee,,,M,TEE-M,10,EUR,,https://x.test/front.jpg|https://x.test/m.jpg",
    )

    product = parsed.products[0]
    assert spec_of(product).images == (
        Image("https://x.test/front.jpg", position=0, skus=("TEE-S", "TEE-M")),
        Image("https://x.test/s.jpg", position=1, skus=("TEE-S",)),
        Image("https://x.test/m.jpg", position=2, skus=("TEE-M",)),
    )
    assert product.image_rows == (2, 2, 3)


def test_a_later_row_that_disagrees_on_a_product_column_fails_the_product_at_that_row() -> None:
    parsed = parse(
        "tee,Tee,Size,S,TEE-S,10,EUR,,",
        "tee,Tee,Size,M,TEE-M,10,EUR,,",
        "tee,Shirt,Fit,L,TEE-L,10,EUR,,",
    )

    assert parsed.errors == [
        RowError(4, "title", "differs from the product's first row (row 2)"),
        RowError(4, "option1_name", "differs from the product's first row (row 2)"),
    ]
    product = parsed.products[0]
    assert isinstance(product.spec, DomainError)
    assert product.errors == tuple(parsed.errors)
    assert product.rows == (2, 3, 4)


def test_every_bad_cell_is_reported_with_its_row_and_column() -> None:
    header = HEADER + ",cost,weight_grams"
    parsed = parse(
        "tee,Tee,Size,S,TEE-S,10.001,EUR,,,,",
        "tee,,,,,10,XXX,,,,",
        "mug,Mug,,M,MUG-1,abc,EUR,,,1.00,heavy",
        "tee,,,M,TEE-M,,EUR,,,,",
        header=header,
    )

    assert [(e.row, e.column) for e in parsed.errors] == [
        (2, "price"),
        (3, "option1_value"),
        (3, "sku"),
        (3, "currency"),
        (4, "option1_value"),
        (4, "price"),
        (4, "weight_grams"),
        (5, "price"),
    ]
    by_row = parsed.errors_by_row()
    assert by_row[2][0].message == "EUR amounts have at most 2 decimals, got '10.001'"
    assert by_row[3][0].message == "a value of option 'Size' is required"
    assert by_row[4][0].message == "option1_name is empty on the product's row 4"
    assert str(by_row[5][0]) == "row 5: price: a price is required"
    assert all(isinstance(p.spec, DomainError) for p in parsed.products)


def test_one_bad_product_leaves_the_others_readable() -> None:
    parsed = parse("tee,Tee,,,TEE-1,ten,EUR,,", "mug,Mug,,,MUG-1,5,EUR,,")

    tee, mug = parsed.products
    assert isinstance(tee.spec, DomainError)
    assert spec_of(mug).handle == "mug"
    assert parsed.errors == [RowError(2, "price", "'ten' is not a decimal amount")]


def test_a_row_without_a_handle_is_an_error_and_empty_rows_are_skipped_but_counted() -> None:
    parsed = parse(",,,,,,,,", ",Tee,,,TEE-1,10,EUR,,", "mug,Mug,,,MUG-1,5,EUR,,")

    assert parsed.errors == [RowError(3, "handle", "a handle is required")]
    assert [(p.handle, p.rows) for p in parsed.products] == [("mug", (4,))]


def test_rows_with_too_many_or_too_few_cells_are_errors() -> None:
    parsed = parse("tee,Tee,,,TEE-1,10,EUR,,,surplus", "mug,Mug,,,MUG-1")

    assert parsed.errors == [
        RowError(2, None, "the row has more cells than the header's 9"),
        RowError(3, "price", "the row ends before this column"),
    ]
    assert parsed.products == []
    assert str(parsed.errors[0]) == "row 2: the row has more cells than the header's 9"


def test_a_quoted_cell_with_line_breaks_is_one_row() -> None:
    header = "handle,title,description_html,sku,price,currency"
    parsed = parse(
        'tee,Tee,"<p>one</p>\n<p>two</p>",TEE-1,10,EUR', "mug,Mug,,MUG-1,x,EUR", header=header
    )

    assert spec_of(parsed.products[0]).description_html == "<p>one</p>\n<p>two</p>"
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "price")]


@pytest.mark.parametrize(
    ("header", "complaint"),
    [
        ("", "the file is empty"),
        ("handle,title,sku,price,currency,colour", "unknown column(s) 'colour'"),
        ("handle,title,sku,price,currency,", "unknown column(s) ''"),
        ("handle,title,sku,sku,price,currency", "column(s) given twice: sku"),
        ("handle,title,sku,price", "missing column(s): currency"),
        ("handle,title,sku,price,currency,option1_name", "option1_name and option1_value go"),
    ],
)
def test_a_bad_header_stops_the_whole_file(header: str, complaint: str) -> None:
    with pytest.raises(CsvError) as raised:
        parse_products(io.StringIO(header + "\n" if header else ""))

    assert complaint in str(raised.value)


def test_header_names_may_be_padded_and_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "\ufeffhandle , title,sku,price,currency\nmug,Mug,MUG-1,5,EUR\n", encoding="utf-8"
    )

    parsed = read_products(path)

    assert spec_of(parsed.products[0]).title == "Mug"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(None, "No such file"), (b"handle,title\n\xff\xfe,x\n", "not UTF-8")],
)
def test_an_unreadable_file_is_a_csv_error(
    tmp_path: Path, content: bytes | None, complaint: str
) -> None:
    path = tmp_path / "products.csv"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CsvError) as raised:
        read_products(path)

    assert complaint in str(raised.value)


def test_domain_errors_are_located_at_the_row_and_column_that_gave_the_field() -> None:
    parsed = parse(
        "tee,Tee,Size,S,TEE-S,10,EUR,4006381333931,https://x.test/a.jpg",
        "tee,,,M,TEE-M,10,EUR,4006381333932,ftp://x.test/b.jpg",
    )
    product = parsed.products[0]

    with pytest.raises(DomainError) as raised:
        check_product(spec_of(product))
    located = row_errors(product, [raised.value])

    assert (3, "barcode") in [(e.row, e.column) for e in located]
    assert (3, "image_urls") in [(e.row, e.column) for e in located]
    assert located[0].message == ("the GTIN's check digit (its last digit) should be 1, not 2")


@pytest.mark.parametrize(
    ("field", "row", "column"),
    [
        (None, 2, "handle"),
        ("handle", 2, "handle"),
        ("title", 2, "title"),
        ("tags[1]", 2, "tags"),
        ("attributes[0].value", 2, "attributes"),
        ("options[0].values", 2, "option2_value"),
        ("variants[1].sku", 3, "sku"),
        ("variants[1].weightGrams", 3, "weight_grams"),
        ("variants[0].optionValues", 2, "option2_value"),
        ("variants", 2, "sku"),
        ("images[1].url", 3, "image_urls"),
        ("categoryId", 2, "category_id"),
        ("descriptionHtml", 2, "description_html"),
    ],
)
def test_api_field_paths_map_to_csv_columns(field: str | None, row: int, column: str) -> None:
    product = CsvProduct(
        handle="tee",
        spec=InvalidInput("x"),
        rows=(2, 3),
        image_rows=(2, 3),
        option_slots=(2,),
    )

    assert row_errors(product, [AlreadyExists("taken", field=field)]) == [
        RowError(row, column, "taken")
    ]
