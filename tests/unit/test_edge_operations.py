"""The edge's one schema extension masks unexpected errors in every answer, subscription
events included, and keeps GraphQL's own; it times every query and mutation."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from adapters.metrics import GRAPHQL_SECONDS
from api.schema.operations import MASKED, EdgeOperations


@strawberry.type
class Query:
    @strawberry.field
    def broken(self) -> str:
        raise ValueError("a secret of the database")

    @strawberry.field
    def refused(self) -> str:
        raise GraphQLError("Not allowed.")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        yield 1
        raise ValueError("a secret of the bus")


SCHEMA = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    extensions=[lambda: EdgeOperations(introspection=True)],
)


def _count(field: str) -> float:
    for metric in GRAPHQL_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("operation") == field:
                return sample.value
    return 0.0


async def test_an_exception_is_masked_and_a_graphql_error_is_kept() -> None:
    broken = await SCHEMA.execute("{ broken }")
    refused = await SCHEMA.execute("{ refused }")

    assert broken.errors is not None
    assert [e.message for e in broken.errors] == [MASKED]
    assert refused.errors is not None
    assert [e.message for e in refused.errors] == ["Not allowed."]


async def test_a_subscription_event_carrying_an_exception_is_masked() -> None:
    stream = await SCHEMA.subscribe("subscription { ticks }")
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    events = [event async for event in stream]

    assert events[0].data == {"ticks": 1}
    assert events[-1].errors is not None
    assert [e.message for e in events[-1].errors] == [MASKED]


async def test_a_syntax_error_is_answered_as_it_is() -> None:
    answer = await SCHEMA.execute("{ broken ")

    assert answer.errors is not None
    assert "Syntax Error" in answer.errors[0].message


async def test_every_query_is_timed_under_its_root_field_and_an_invalid_one_as_invalid() -> None:
    before, invalid = _count("refused"), _count("invalid")

    await SCHEMA.execute("{ refused }")
    await SCHEMA.execute("{ nothingHere }")

    assert _count("refused") == before + 1
    assert _count("invalid") == invalid + 1
