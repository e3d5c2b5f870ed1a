"""Upserting a batch of products: what the API's `upsertProducts` and `nexo import` share."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.container import Container
from domain.catalog import model, products
from domain.catalog.products import UpsertOutcome
from domain.clock import utcnow
from domain.errors import DomainError, InvalidInput

DEADLOCK_RETRIES = 5


def _must_retry(error: DBAPIError) -> bool:
    """PostgreSQL's deadlock and serialization failures: the transaction can run again."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in ("40P01", "40001")


async def upsert_batch(
    container: Container, specs: list[model.ProductSpec | DomainError]
) -> list[products.UpsertResult]:
    """One transaction for the batch; if a concurrent writer collides, item by item."""
    uow_factory = container.uow
    formats = container.listing_formats
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            async with uow_factory() as uow:
                results = await products.upsert_products(uow, specs, formats, now=utcnow())
                await uow.commit()
            return results
        except IntegrityError:
            break
        except DBAPIError as error:
            # Rows are written in a fixed order, but other writers (stock, relays) touch
            # some of the same rows: a deadlock victim is simply run again.
            if not _must_retry(error) or attempt == DEADLOCK_RETRIES:
                raise
            await asyncio.sleep(random.uniform(0, 0.05 * attempt))  # let the other one finish
    # Another writer took a handle or SKU between our checks and our insert: redo each item
    # alone, so only the colliding ones fail, each with its reason.
    results = []
    for index, spec in enumerate(specs):
        try:
            async with uow_factory() as uow:
                (one,) = await products.upsert_products(uow, [spec], formats, now=utcnow())
                await uow.commit()
            results.append(
                products.UpsertResult(index, one.handle, one.outcome, one.product, one.errors)
            )
        except IntegrityError:
            handle = spec.handle if isinstance(spec, model.ProductSpec) else ""
            collided = InvalidInput("changed concurrently by another writer; retry", field="handle")
            results.append(
                products.UpsertResult(index, handle, UpsertOutcome.FAILED, None, (collided,))
            )
    return results
