"""Storing arriving events: together in one statement, each once, and only while the
credentials that verified it are still its channel's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

from adapters.container import Container
from adapters.db.tables import inbox
from adapters.desks.reception import Reception
from domain.catalog.channel_settings import set_channel_credentials
from domain.channels.availability import AvailabilityRule
from domain.channels.port import InboundKind
from domain.channels.setup import create_channel
from domain.jobs import PROCESS_INBOX_MANY_JOB
from domain.sync.inbox_model import InboxEntry, InboxStatus, Intake

CREDENTIALS = {"shop_domain": "nexo-demo.myshopify.com", "access_token": "t", "api_secret": "s"}


class Jobs:
    """The container's queue, recording what is enqueued instead of running it (the periodic
    sweeps aside: they come when the clock says)."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, tuple[Any, ...]]] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        if not (job_id or "").startswith("periodic:"):
            self.enqueued.append((job, args))
        return True


@pytest.fixture
async def channel(container: Container) -> uuid.UUID:
    async with container.uow() as uow:
        made = await create_channel(
            uow, name="Shopify", kind="shopify", currency="USD", priority=0, location_ids=[],
            rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    await rotate(container, made.id)
    return made.id


@pytest.fixture
def jobs(container: Container, monkeypatch: pytest.MonkeyPatch) -> Jobs:
    recorded = Jobs()
    monkeypatch.setattr(container.queue, "enqueue", recorded.enqueue)
    return recorded


async def rotate(container: Container, channel: uuid.UUID) -> bytes:
    """Seal the channel's credentials anew; the sealed bytes, as stored."""
    async with container.uow() as uow:
        await set_channel_credentials(
            uow, channel, CREDENTIALS, container.secrets, now=datetime.now(UTC)
        )
        await uow.commit()
    async with container.uow(readonly=True) as uow:
        sealed = await uow.channel_configs.credentials(channel)
    assert sealed is not None
    return sealed


def arriving(channel: uuid.UUID, event_id: str | None = None) -> InboxEntry:
    return InboxEntry(
        id=uuid.uuid4(),
        channel_id=channel,
        event_id=event_id or str(uuid.uuid4()),
        topic="orders/create",
        kind=InboundKind.ORDER,
        headers={"x-shopify-topic": "orders/create"},
        body='{"id": 1}',
        status=InboxStatus.RECEIVED,
        attempts=0,
        received_at=datetime.now(UTC),
    )


async def stored(container: Container) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(inbox))).scalar_one())


async def inserts_while(container: Container, work: Any) -> int:
    """How many INSERT statements `work` runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT"):
            seen.append(statement)

    engine = container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await work
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


async def test_events_arriving_together_share_one_statement_and_one_job(
    container: Container, channel: uuid.UUID, jobs: Jobs, backend: str
) -> None:
    sealed = await rotate(container, channel)
    reception = Reception(container.uow)
    entries = [arriving(channel) for _ in range(20)]

    async def together() -> list[Intake]:
        return await asyncio.gather(*(reception.store(e, sealed) for e in entries))

    inserts = await inserts_while(container, together())

    assert await stored(container) == 20
    assert [job for job, _ in jobs.enqueued] == [PROCESS_INBOX_MANY_JOB]
    [(asked,)] = [args for _, args in jobs.enqueued]
    assert sorted(asked) == sorted(str(e.id) for e in entries)
    # PostgreSQL stores the batch in one statement; SQLite one per event, in one transaction.
    assert inserts == (1 if backend == "postgres" else 20)


async def test_redeliveries_arriving_together_are_stored_once(
    container: Container, channel: uuid.UUID, jobs: Jobs
) -> None:
    sealed = await rotate(container, channel)
    reception = Reception(container.uow)
    copies = [arriving(channel, event_id="evt-1") for _ in range(5)]

    outcomes = await asyncio.gather(*(reception.store(e, sealed) for e in copies))

    assert sorted(outcomes) == sorted([Intake.STORED] + [Intake.DUPLICATE] * 4)
    assert await stored(container) == 1
    assert len(jobs.enqueued) == 1
    assert await reception.store(arriving(channel, event_id="evt-1"), sealed) is Intake.DUPLICATE


async def test_an_event_verified_with_replaced_credentials_is_kept_out_its_mates_are_not(
    container: Container, channel: uuid.UUID, jobs: Jobs
) -> None:
    old = await rotate(container, channel)
    new = await rotate(container, channel)  # same secret, sealed anew: other bytes
    reception = Reception(container.uow)
    stale, fresh = arriving(channel), arriving(channel)

    outcomes = await asyncio.gather(reception.store(stale, old), reception.store(fresh, new))

    assert outcomes == [Intake.STALE, Intake.STORED]
    assert await stored(container) == 1
    assert jobs.enqueued == [(PROCESS_INBOX_MANY_JOB, ([str(fresh.id)],))]


async def test_a_batch_that_fails_fails_each_waiter_and_the_next_one_is_stored(
    container: Container, channel: uuid.UUID, jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = await rotate(container, channel)
    reception = Reception(container.uow)
    factory = container.uow
    calls = 0

    def failing_once(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database unreachable")
        return factory(**kwargs)

    monkeypatch.setattr(reception, "_uows", failing_once)
    failed = await asyncio.gather(
        *(reception.store(arriving(channel), sealed) for _ in range(3)), return_exceptions=True
    )
    assert [type(f) for f in failed] == [ConnectionError] * 3

    assert await reception.store(arriving(channel), sealed) is Intake.STORED
    assert await stored(container) == 1


# SQLite opens a connection per unit of work: it has no pool to keep.
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_autocommit_work_never_takes_more_connections_than_the_pool_keeps(
    container: Container,
) -> None:
    pool = container.engine.pool
    inside = most = 0

    async def one_statement() -> None:
        # Counted here, not by the pool: the in-process queue's periodic jobs may hold
        # connections of the same pool meanwhile.
        nonlocal inside, most
        async with container.uow(autocommit=True) as uow:
            inside += 1
            most = max(most, inside)
            await uow.inbox.page(channel_id=None, status=None, first=1, after=None)
            await asyncio.sleep(0.01)  # hold the connection a while: let the others pile up
            await uow.commit()
            inside -= 1

    await asyncio.gather(*(one_statement() for _ in range(40)))

    assert most == pool.size()  # type: ignore[attr-defined]
