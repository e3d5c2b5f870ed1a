"""`nexo import products FILE.csv`, run as a process against a SQLite file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.container import build_container
from adapters.settings import Settings
from domain.catalog.model import Product
from domain.inventory.setup import create_inventory_item, create_location
from tests.e2e.test_cli import Run, nexo

HEADER = "handle,title,tags,option1_name,option1_value,sku,price,currency,barcode,image_urls"
GOOD = [
    "tee,Classic Tee,cotton|summer,Size,S,TEE-S,19.90,EUR,4006381333931,"
    "https://img.test/tee.jpg|https://img.test/tee-s.jpg",
    "tee,,,,M,TEE-M,19.90,EUR,,https://img.test/tee.jpg",
    "tee,,,,L,TEE-L,21.90,EUR,,https://img.test/tee.jpg",
    "mug,Enamel Mug,,,,MUG-1,9.50,EUR,,https://img.test/mug.jpg",
]
# Row 7's barcode ends in the wrong check digit (it should be 1).
BAD = [
    "cap,Cap,,Color,Red,CAP-R,12.00,EUR,,",
    "cap,,,,Blue,CAP-B,12.00,EUR,4006381333932,",
]


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("import-template")
    path = home / "template.db"
    run = nexo("migrate", cwd=home, NEXO_DATABASE_URL=url_of(path))
    assert run.code == 0, run.stderr
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_template: Path) -> Path:
    path = tmp_path / "nexo.db"
    shutil.copyfile(migrated_template, path)
    return path


def write_csv(directory: Path, *rows: str) -> Path:
    path = directory / "products.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def import_products(db_path: Path, csv_path: Path, *options: str) -> Run:
    return nexo(
        "import",
        "products",
        str(csv_path),
        *options,
        cwd=csv_path.parent,
        NEXO_DATABASE_URL=url_of(db_path),
    )


async def stored(db_path: Path, *handles: str) -> dict[str, Product]:
    container = build_container(Settings(database_url=url_of(db_path)))
    try:
        async with container.uow(readonly=True) as uow:
            return await uow.catalog.by_handles(handles)
    finally:
        await container.close()


async def test_good_products_are_imported_and_the_bad_row_is_named(
    tmp_path: Path, db_path: Path
) -> None:
    run = import_products(db_path, write_csv(tmp_path, *GOOD, *BAD))

    assert run.code == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "batch 1/1: 3 products; created 2, updated 0, unchanged 0, failed 1"
    assert lines[1] == "created 2, updated 0, unchanged 0, failed 1"
    assert "row 7: barcode: the GTIN's check digit (its last digit) should be 1, not 2" in lines
    assert all(line.startswith("row 7: ") for line in lines[2:]), run.stdout
    products = await stored(db_path, "tee", "mug", "cap")
    assert sorted(products) == ["mug", "tee"]
    tee = products["tee"]
    assert [v.sku for v in tee.variants] == ["TEE-S", "TEE-M", "TEE-L"]
    assert [o.values for o in tee.options] == [("S", "M", "L")]
    assert [(i.url, i.skus) for i in tee.images] == [
        ("https://img.test/tee.jpg", ("TEE-S", "TEE-M", "TEE-L")),
        ("https://img.test/tee-s.jpg", ("TEE-S",)),
    ]


async def test_importing_the_same_file_twice_reports_unchanged(
    tmp_path: Path, db_path: Path
) -> None:
    csv_path = write_csv(tmp_path, *GOOD)

    first = import_products(db_path, csv_path, "--batch-size", "1")
    second = import_products(db_path, csv_path, "--batch-size", "1")

    assert first.code == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "created 2, updated 0, unchanged 0, failed 0"
    assert second.code == 0, second.stderr
    assert second.stdout.splitlines() == [
        "batch 1/2: 1 products; created 0, updated 0, unchanged 1, failed 0",
        "batch 2/2: 1 products; created 0, updated 0, unchanged 2, failed 0",
        "created 0, updated 0, unchanged 2, failed 0",
    ]


async def test_a_changed_row_updates_its_product(tmp_path: Path, db_path: Path) -> None:
    assert import_products(db_path, write_csv(tmp_path, *GOOD)).code == 0
    cheaper = [GOOD[0], GOOD[1], GOOD[2], GOOD[3].replace("9.50", "8.50")]

    run = import_products(db_path, write_csv(tmp_path, *cheaper))

    assert run.code == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "created 0, updated 1, unchanged 1, failed 0"
    mug = (await stored(db_path, "mug"))["mug"]
    assert mug.variants[0].price.minor == 850


def test_an_unknown_column_stops_the_import_with_one_line(tmp_path: Path, db_path: Path) -> None:
    csv_path = tmp_path / "products.csv"
    csv_path.write_text("handle,title,sku,price,currency,colour\nmug,Mug,MUG-1,5,EUR,red\n")

    run = import_products(db_path, csv_path)

    assert run.code == 2
    assert run.stdout == ""
    assert run.error_lines == [
        "nexo: header (row 1): unknown column(s) 'colour'",
    ]


def test_a_missing_file_stops_the_import_with_one_line(tmp_path: Path, db_path: Path) -> None:
    run = import_products(db_path, tmp_path / "nowhere.csv")

    assert run.code == 2
    assert len(run.error_lines) == 1, run.stderr
    assert "nowhere.csv" in run.stderr


async def test_stock_is_imported_and_exported(tmp_path: Path, db_path: Path) -> None:
    container = build_container(Settings(database_url=url_of(db_path)))
    try:
        async with container.uow() as uow:
            await create_location(uow, code="WH1", name="Warehouse", kind="warehouse")
            for sku in ("TEE-S", "TEE-M"):
                await create_inventory_item(uow, sku=sku)
            await uow.commit()
    finally:
        await container.close()
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,kind,quantity\nTEE-S,WH1,receive,5\nTEE-M,WH1,count,3\n")
    url = url_of(db_path)

    imported = nexo("import", "stock", str(stock), cwd=tmp_path, NEXO_DATABASE_URL=url)
    exported = nexo("export", "stock", cwd=tmp_path, NEXO_DATABASE_URL=url)

    assert (imported.code, imported.stdout.splitlines()[-1]) == (0, "applied 2, already applied 0")
    assert exported.stdout.splitlines() == [
        "sku,location,on_hand,reserved,available",
        "TEE-M,WH1,3,0,3",
        "TEE-S,WH1,5,0,5",
    ]
