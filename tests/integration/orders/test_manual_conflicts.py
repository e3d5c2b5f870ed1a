"""Manual conflicts over GraphQL: listed while open, resolved by a person, aged into an alert.

The market settles conflicts by hand: its order finds the one unit held by the shop's order,
and waits (`short`, an open conflict). A staff key names the winner and what becomes of the
loser; the decision, its actor and reason are on the order's history.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.channels.policies import ConflictPolicy, LosingLine
from domain.clock import utcnow
from domain.errors import IllegalState
from domain.inventory.alerts import AlertKind
from domain.orders import manual_conflicts
from domain.orders.model import LineStatus, OrderStatus
from tests.graphql import data, gql
from tests.integration.orders.conftest import T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")

ERRORS = "userErrors { field message code }"
CONFLICT_FIELDS = "id orderId lineId sku quantity policy open resolvedAt resolvedBy decision"
RESOLVE = f"""
mutation($input: ResolveConflictInput!) {{
  resolveConflict(input: $input) {{
    order {{ id status lines {{ status reservationId }}
             transitions {{ fromStatus toStatus actor reason }} }}
    conflict {{ {CONFLICT_FIELDS} }}
    {ERRORS}
  }}
}}"""
CONFLICTS = (
    f"query($status: ConflictStatus) {{ conflicts(status: $status) {{ {CONFLICT_FIELDS} }} }}"
)


@dataclass
class Contest:
    hub: Hub
    holder: uuid.UUID  # the shop's order, holding the one unit
    waiting: uuid.UUID  # the market's order, held for a person
    conflict_id: str


@pytest.fixture
async def contest(hub: Hub) -> Contest:
    await hub.configure(hub.market, conflict_policy=ConflictPolicy.MANUAL)
    await hub.receive(1)
    holder = await hub.take(hub.shop, channel_order("S-1", placed=T0))
    waiting = await hub.take(hub.market, channel_order("M-1", placed=T0 - timedelta(hours=1)))
    await hub.container.queue.drain()
    assert [ln.status for ln in waiting.lines] == [LineStatus.SHORT]
    async with hub.container.uow(readonly=True) as uow:
        [conflict] = await uow.orders.conflicts(waiting.id)
    assert conflict.open
    return Contest(hub, holder.id, waiting.id, str(conflict.id))


async def resolve(
    http: httpx.AsyncClient, key: str, contest: Contest, **changes: Any
) -> dict[str, Any]:
    variables = {
        "conflictId": contest.conflict_id,
        "winner": str(contest.waiting),
        "loserAction": "BACKORDER",
        "reason": "the market customer is a wholesale account",
        **changes,
    }
    body = await gql(http, RESOLVE, {"input": variables}, key=key)
    return data(body)["resolveConflict"]


async def listed(http: httpx.AsyncClient, key: str, status: str) -> list[dict[str, Any]]:
    return data(await gql(http, CONFLICTS, {"status": status}, key=key))["conflicts"]


async def test_the_contesting_order_wins_and_the_holder_is_backordered(
    contest: Contest, http: httpx.AsyncClient, staff_key: str
) -> None:
    hub = contest.hub
    [open_one] = await listed(http, staff_key, "OPEN")
    assert open_one["id"] == contest.conflict_id
    assert open_one["orderId"] == str(contest.waiting)

    result = await resolve(http, staff_key, contest)

    assert result["userErrors"] == []
    assert result["order"]["status"] == "ALLOCATED"
    assert [ln["status"] for ln in result["order"]["lines"]] == ["ALLOCATED"]
    [decided] = [t for t in result["order"]["transitions"] if "resolved by" in t["reason"]]
    assert decided["actor"] == "test-staff"
    assert "wholesale account" in decided["reason"]
    assert result["conflict"]["open"] is False
    assert result["conflict"]["resolvedBy"] == "test-staff"
    holder = await hub.order(contest.holder)
    assert [ln.status for ln in holder.lines] == [LineStatus.SHORT]  # backordered
    assert holder.status is OrderStatus.OPEN
    assert await listed(http, staff_key, "OPEN") == []
    # Both sides of the decision: the conflict, and the holder's loss recorded by it.
    resolved = {c["orderId"]: c for c in await listed(http, staff_key, "RESOLVED")}
    assert resolved[str(contest.waiting)]["id"] == contest.conflict_id
    assert resolved[str(contest.holder)]["resolvedBy"] == "test-staff"
    assert len(resolved) == 2
    assert await hub.level() == (1, 1)
    await hub.assert_ledger_clean()


async def test_the_holder_wins_and_the_contesting_line_is_cancelled(
    contest: Contest, http: httpx.AsyncClient, staff_key: str
) -> None:
    hub = contest.hub

    result = await resolve(
        http, staff_key, contest, winner=str(contest.holder), loserAction="CANCEL"
    )

    assert result["userErrors"] == []
    assert result["order"]["status"] == "CANCELLED"
    assert [ln["status"] for ln in result["order"]["lines"]] == ["CANCELLED"]
    [decided] = [t for t in result["order"]["transitions"] if "resolved by" in t["reason"]]
    assert decided["actor"] == "test-staff"
    assert "keeps the unit" in decided["reason"]
    assert (await hub.order(contest.holder)).status is OrderStatus.ALLOCATED
    async with hub.container.uow(readonly=True) as uow:
        told = await uow.outbox.status(hub.market, T0 - timedelta(days=1))
    assert told.pending >= 1  # the market hears its line was cancelled
    assert await hub.level() == (1, 1)


async def test_a_backordered_loser_is_filled_when_stock_comes(
    contest: Contest, http: httpx.AsyncClient, staff_key: str
) -> None:
    hub = contest.hub
    result = await resolve(http, staff_key, contest, winner=str(contest.holder))
    assert [ln["status"] for ln in result["order"]["lines"]] == ["SHORT"]

    await hub.receive(1)
    await hub.container.queue.drain()

    assert (await hub.order(contest.waiting)).status is OrderStatus.ALLOCATED
    assert await hub.level() == (2, 2)
    await hub.assert_ledger_clean()


async def test_bad_resolutions_are_typed_errors_and_change_nothing(
    contest: Contest, http: httpx.AsyncClient, staff_key: str, readonly_key: str
) -> None:
    hub = contest.hub
    stranger = await hub.take(hub.shop, channel_order("S-2"))  # holds nothing
    before = (await hub.order(contest.waiting), await hub.order(contest.holder))

    cases = [
        ({"conflictId": str(uuid.uuid4())}, "conflictId", "NOT_FOUND"),
        ({"winner": str(stranger.id)}, "winner", "INVALID_INPUT"),
        ({"winner": str(uuid.uuid4())}, "winner", "INVALID_INPUT"),
        ({"reason": "  "}, "reason", "INVALID_INPUT"),
        ({"conflictId": "not-an-id"}, "conflictId", "NOT_FOUND"),
    ]
    for changes, field, code in cases:
        result = await resolve(http, staff_key, contest, **changes)
        assert result["order"] is None
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)]
    denied = await gql(
        http,
        RESOLVE,
        {
            "input": {
                "conflictId": contest.conflict_id, "winner": str(contest.waiting),
                "loserAction": "BACKORDER", "reason": "r",
            }
        },
        key=readonly_key,
    )  # fmt: skip
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await hub.order(contest.waiting), await hub.order(contest.holder)) == before
    assert [c["id"] for c in await listed(http, staff_key, "OPEN")] == [contest.conflict_id]

    assert (await resolve(http, staff_key, contest))["userErrors"] == []
    after = (await hub.order(contest.waiting), await hub.order(contest.holder))
    again = await resolve(http, staff_key, contest, winner=str(contest.holder))

    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        ("conflictId", "ILLEGAL_STATE")
    ]
    assert (await hub.order(contest.waiting), await hub.order(contest.holder)) == after
    await hub.assert_ledger_clean()


async def test_a_conflict_left_open_too_long_raises_one_alert(contest: Contest) -> None:
    hub = contest.hub
    hour = timedelta(hours=1)
    soon = utcnow() + timedelta(minutes=10)
    assert (
        await manual_conflicts.alert_aged(hub.container.uow, older_than=hour, clock=lambda: soon)
        == []
    )

    late = utcnow() + timedelta(hours=2)
    sweeps = await asyncio.gather(
        *(
            manual_conflicts.alert_aged(hub.container.uow, older_than=hour, clock=lambda: late)
            for _ in range(3)
        )
    )
    again = await manual_conflicts.alert_aged(
        hub.container.uow, older_than=hour, clock=lambda: late
    )

    assert sorted(len(s) for s in sweeps) == [0, 0, 1]
    assert again == []
    async with hub.container.uow(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku=None, first=50, after=None)
    waiting = [a for a in alerts if a.kind is AlertKind.CONFLICT_WAITING]
    assert len(waiting) == 1
    assert waiting[0].channel_id == hub.market


async def test_two_people_resolving_at_once_make_one_resolution(contest: Contest) -> None:
    hub = contest.hub

    async def decide(winner: uuid.UUID) -> str:
        try:
            await manual_conflicts.resolve(
                hub.container.uow, conflict_id=uuid.UUID(contest.conflict_id), winner=winner,
                loser_action=LosingLine.BACKORDER, reason="at once", actor=f"person:{winner}",
            )  # fmt: skip
        except IllegalState:
            return "refused"
        return "resolved"

    outcomes = await asyncio.gather(decide(contest.waiting), decide(contest.holder))

    assert sorted(outcomes) == ["refused", "resolved"]
    waiting, holder = await hub.order(contest.waiting), await hub.order(contest.holder)
    async with hub.container.uow(readonly=True) as uow:
        conflict = await uow.orders.get_conflict(uuid.UUID(contest.conflict_id))
    assert conflict is not None
    assert conflict.resolved_by is not None
    # Whoever won, exactly one of the two orders holds the one unit.
    statuses = sorted([waiting.lines[0].status, holder.lines[0].status])
    assert statuses == [LineStatus.ALLOCATED, LineStatus.SHORT]
    winner = waiting if waiting.lines[0].status is LineStatus.ALLOCATED else holder
    assert conflict.resolved_by == f"person:{winner.id}"
    assert await hub.level() == (1, 1)
    await hub.assert_ledger_clean()
