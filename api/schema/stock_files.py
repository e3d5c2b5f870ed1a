"""Schema area: stock, products and orders as files — a stock CSV imported (`importStock`),
and signed links to download exports (`exportLink`), for SPAs; the same as `nexo import
stock` and `nexo export`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final

import strawberry

from api.catalog_csv import CsvError
from api.export_download import export_token
from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.permissions import CanMutate, IsAuthenticated
from api.stock_csv import import_parsed, parse_stock
from domain.errors import ErrorCode, InvalidInput

# Longer files belong to `nexo import stock`, which shows its progress.
MAX_ROWS: Final = 10_000


@strawberry.enum(description="What `exportLink` can download.")
class ExportKind(Enum):
    STOCK = "stock"
    PRODUCTS = "products"
    ORDERS = "orders"


@strawberry.input
class ImportStockInput:
    csv: str = strawberry.field(
        description="The file's text: columns sku, location (a code), kind (receive or count), "
        f"quantity, and optionally key; at most {MAX_ROWS:,} rows."
    )


@strawberry.type
class ImportStockPayload:
    applied: int = 0
    replayed: int = strawberry.field(
        default=0, description="Rows an earlier import of the same file (or keys) applied."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Each bad row, by row (field `csv`); with any, nothing was applied.",
    )


@strawberry.type
class ExportLink:
    url: str = strawberry.field(description="A path on this server; works once per request.")
    expires_at: datetime


@strawberry.type
class StockFilesMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Receipts and counts from a CSV: every row is checked before any is "
        "applied, each row applies once (rerunning the same file changes nothing).",
    )
    @user_errors_as(ImportStockPayload)
    async def import_stock(self, info: Info, input: ImportStockInput) -> ImportStockPayload:
        try:
            parsed = parse_stock(input.csv)
        except CsvError as error:  # no header, or not CSV at all
            raise InvalidInput(str(error), field="csv") from None
        if len(parsed.lines) + len(parsed.errors) > MAX_ROWS:
            raise InvalidInput(
                f"at most {MAX_ROWS:,} rows (use `nexo import stock` for more)", field="csv"
            )
        report = await import_parsed(info.context.container.uow, parsed, actor=info.context.actor)
        errors = [UserError(field="csv", message=str(e), code=ErrorCode.INVALID_INPUT)
                  for e in report.errors]  # fmt: skip
        return ImportStockPayload(
            applied=report.applied, replayed=report.replayed, user_errors=errors
        )


@strawberry.type
class StockFilesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A signed link to download an export as CSV, valid for a few minutes.",
    )
    def export_link(self, info: Info, kind: ExportKind) -> ExportLink:
        container = info.context.container
        token, expires = export_token(container.secrets, kind.value, container.clock())
        return ExportLink(url=f"/exports/{kind.value}.csv?token={token}", expires_at=expires)
