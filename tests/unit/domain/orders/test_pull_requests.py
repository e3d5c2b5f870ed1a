"""What a request for a pull of a channel's orders asks the job queue for (what the queues
make of it: tests/integration/sync/test_pull_requests.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.jobs import PULL_JOB, IfTaken
from domain.orders.pull import REQUEST_TURN, request_pull
from tests.fakes import FakeUnitOfWorkFactory

TURN = datetime(2026, 1, 1, tzinfo=UTC)  # an even second: a turn starts
CHANNEL = uuid.UUID(int=7)


async def asked(uows: FakeUnitOfWorkFactory, at: datetime) -> None:
    async with uows() as uow:
        request_pull(uow, CHANNEL, at)
        await uow.commit()


async def test_a_turns_requests_share_its_pull_and_else_the_one_at_its_end() -> None:
    uows = FakeUnitOfWorkFactory()
    await asked(uows, TURN + timedelta(seconds=0.5))
    await asked(uows, TURN + timedelta(seconds=1.5))
    await asked(uows, TURN + REQUEST_TURN)  # the next turn's first

    turn = int(TURN.timestamp() // REQUEST_TURN.total_seconds())
    assert [(job, args, job_id) for job, args, job_id in uows.enqueued] == [
        (PULL_JOB, (str(CHANNEL),), f"pull:{CHANNEL}:{turn}"),
        (PULL_JOB, (str(CHANNEL),), f"pull:{CHANNEL}:{turn}"),
        (PULL_JOB, (str(CHANNEL),), f"pull:{CHANNEL}:{turn + 1}"),
    ]
    # Taken (it may have read the channel already): the pull starting as the turn ends,
    # after every request of the turn, however late in it the request came.
    assert uows.if_taken == {
        f"pull:{CHANNEL}:{turn}": IfTaken(f"pull:{CHANNEL}:{turn}:end", 0.5),
        f"pull:{CHANNEL}:{turn + 1}": IfTaken(f"pull:{CHANNEL}:{turn + 1}:end", 2.0),
    }
