"""Upserting a batch of products: what the API's `upsertProducts` and `nexo import` share."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from adapters.container import Container
from domain.catalog import model, products
from domain.catalog.products import UpsertOutcome
from domain.errors import DomainError, InvalidInput


async def upsert_batch(
    container: Container, specs: list[model.ProductSpec | DomainError]
) -> list[products.UpsertResult]:
    """One transaction for the batch; if a concurrent writer collides, item by item."""
    uow_factory = container.uow
    formats = container.listing_formats
    try:
        async with uow_factory() as uow:
            results = await products.upsert_products(uow, specs, formats, now=datetime.now(UTC))
            await uow.commit()
        return results
    except IntegrityError:
        pass
    # Another writer took a handle or SKU between our checks and our insert: redo each item
    # alone, so only the colliding ones fail, each with its reason.
    results = []
    for index, spec in enumerate(specs):
        try:
            async with uow_factory() as uow:
                (one,) = await products.upsert_products(uow, [spec], formats, now=datetime.now(UTC))
                await uow.commit()
            results.append(
                products.UpsertResult(index, one.handle, one.outcome, one.product, one.errors)
            )
        except IntegrityError:
            handle = spec.handle if isinstance(spec, model.ProductSpec) else ""
            error = InvalidInput("changed concurrently by another writer; retry", field="handle")
            results.append(
                products.UpsertResult(index, handle, UpsertOutcome.FAILED, None, (error,))
            )
    return results
