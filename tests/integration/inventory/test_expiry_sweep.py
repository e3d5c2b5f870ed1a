"""The expiry sweep runs by itself: an expired cart stops counting within seconds."""

from __future__ import annotations

import asyncio

from adapters.container import Container
from adapters.queue.arq import arq_cron_jobs
from domain.inventory import reservations, stock
from domain.inventory.model import ReservationStatus
from domain.jobs import EXPIRE_RESERVATIONS_JOB
from tests.integration.inventory.conftest import Stockroom
from workers.registry import EXPIRY_SWEEP_SECONDS, JOBS


def test_the_sweep_is_registered_every_five_seconds_on_both_runtimes() -> None:
    (sweep,) = [spec for spec in JOBS if spec.name == EXPIRE_RESERVATIONS_JOB]
    assert sweep.every_seconds == EXPIRY_SWEEP_SECONDS <= 5
    (cron,) = [job for job in arq_cron_jobs(JOBS) if job.name == "cron:expire_reservations"]
    assert cron.second == set(range(0, 60, EXPIRY_SWEEP_SECONDS))


async def test_an_expired_cart_is_released_by_the_running_sweep(
    container: Container, stockroom: Stockroom
) -> None:
    """In-process runtime: the container's queue runs the registered sweep on its own."""
    wh = stockroom.warehouse.id
    await stock.receive(
        container.uow, sku="TSHIRT-M", location_id=wh, quantity=2, key="r", actor="t"
    )
    cart = await reservations.reserve(
        container.uow, sku="TSHIRT-M", quantity=2, key="cart", actor="web", expires_in_seconds=1
    )
    # Expiry after 1 s, then at most one sweep period: poll the outcome, bounded.
    async with asyncio.timeout(1 + EXPIRY_SWEEP_SECONDS + 3):
        while True:
            async with container.uow() as uow:
                found = await uow.inventory.get_reservation(cart.reservation.id)
                snapshot = await uow.inventory.snapshot("TSHIRT-M")
            assert found is not None
            if found.status is ReservationStatus.EXPIRED:
                break
            await asyncio.sleep(0.2)
    assert snapshot is not None
    level = snapshot.level_at(wh)
    assert level is not None
    assert (level.on_hand, level.reserved) == (2, 0)
