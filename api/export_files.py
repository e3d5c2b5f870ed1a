"""Stock, products and orders as CSV files, for `nexo export <name>` and `GET
/exports/<name>.csv` alike (the same bytes, as for reports: api/report_files.py).

The stock file is every level (`sku,location,on_hand,reserved,available`); its `sku`,
`location` and `on_hand` columns, with a `kind` of `count`, are what `nexo import stock`
reads back. The products file has the columns `nexo import products` reads. The orders file
is one row per order line, newest order first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from api.report_csv import Cell, csv_text
from api.report_files import ReportFile
from domain.catalog.model import Product
from domain.catalog.ports import ProductFilter
from domain.orders.ports import OrderFilter

if TYPE_CHECKING:  # the command builds its parser from this module: no engine imported for it
    from adapters.container import Container

PAGE: Final = 500
LIST_SEPARATOR: Final = "|"


async def stock_file(container: Container) -> ReportFile:
    rows: list[list[Cell]] = []
    after: str | None = None
    async with container.uow(readonly=True) as uow:
        while True:
            items = await uow.inventory.list_items(first=PAGE, after=after, search=None)
            snapshots = await uow.inventory.snapshots([item.sku for item in items])
            for item in items:
                snapshot = snapshots[item.sku]
                for entry in sorted(snapshot.levels, key=lambda e: e.location_code):
                    level = entry.level
                    rows.append([item.sku, entry.location_code, level.on_hand, level.reserved,
                                 level.available])  # fmt: skip
            if len(items) < PAGE:
                break
            after = items[-1].sku
    header = ("sku", "location", "on_hand", "reserved", "available")
    return ReportFile("stock.csv", csv_text(header, rows))


def _product_rows(product: Product) -> Iterator[list[Cell]]:
    names = [o.name for o in product.options] + [""] * (3 - len(product.options))
    attributes = LIST_SEPARATOR.join(f"{a.name}={a.value}" for a in product.attributes)
    for n, variant in enumerate(product.variants):
        first = n == 0
        values = list(variant.option_values) + [""] * (3 - len(variant.option_values))
        yield [
            product.handle,
            product.title if first else "",
            product.description_html if first else "",
            (product.brand or "") if first else "",
            str(product.category_id or "") if first else "",
            LIST_SEPARATOR.join(product.tags) if first else "",
            attributes if first else "",
            *(names if first else ["", "", ""]),
            *values,
            variant.sku,
            f"{variant.price.amount:f}",
            variant.price.currency,
            f"{variant.cost.amount:f}" if variant.cost else "",
            variant.barcode or "",
            variant.weight_grams,
        ]


async def products_file(container: Container) -> ReportFile:
    rows: list[list[Cell]] = []
    after: str | None = None
    async with container.uow(readonly=True) as uow:
        while True:
            page = await uow.catalog.page(first=PAGE, after=after, filter=ProductFilter())
            variants = await uow.catalog.variants_of([p.id for p in page])
            for product in page:
                own = tuple(variants.get(product.id, ()))
                rows.extend(_product_rows(replace(product, variants=own)))
            if len(page) < PAGE:
                break
            after = uow.catalog.cursor(page[-1])
    header = (
        "handle", "title", "description_html", "brand", "category_id", "tags", "attributes",
        "option1_name", "option2_name", "option3_name",
        "option1_value", "option2_value", "option3_value",
        "sku", "price", "currency", "cost", "barcode", "weight_grams",
    )  # fmt: skip
    return ReportFile("products.csv", csv_text(header, rows))


async def orders_file(container: Container) -> ReportFile:
    rows: list[list[Cell]] = []
    after: str | None = None
    async with container.uow(readonly=True) as uow:
        names = {c.id: c.name for c in await uow.channels.all()}
        while True:
            page = await uow.orders.page(first=PAGE, after=after, filter=OrderFilter())
            for order in page:
                for line in order.lines:
                    rows.append([
                        str(order.id), names.get(order.channel_id, ""), order.external_id,
                        order.number, order.status.value, order.placed_at, order.customer.name,
                        line.sku or line.channel_sku, line.quantity, line.unit_price_minor,
                        line.currency, line.status.value, line.shipped_quantity,
                    ])  # fmt: skip
            if len(page) < PAGE:
                break
            after = uow.orders.cursor(page[-1])
    header = (
        "order_id", "channel", "external_id", "number", "status", "placed_at", "customer",
        "sku", "quantity", "unit_price_minor", "currency", "line_status", "shipped",
    )  # fmt: skip
    return ReportFile("orders.csv", csv_text(header, rows))


EXPORTS: Final[dict[str, Callable[[Container], Awaitable[ReportFile]]]] = {
    "stock": stock_file,
    "products": products_file,
    "orders": orders_file,
}
