"""Per-key rate limits on the API, and a bound per channel on its webhooks.

Each API key has a token bucket per operation class (queries, mutations; a subscription is
bounded by the per-connection limit instead), each channel one for its webhooks. Buckets
live in the container's limiter: Redis when configured (shared by every process), else the
process. An operation over its key's limit is refused before it runs with `RATE_LIMITED`
and the seconds to wait (`retryAfter`; over HTTP also a 429 and `Retry-After`); a webhook
over its channel's, with 429 and `Retry-After` (the channel sends it again).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Protocol

from graphql import ExecutionResult, GraphQLError
from starlette.responses import Response
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from adapters.settings import Settings
from domain.sync.rate_limits import BucketSpec


class Admission(Protocol):
    async def try_acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> float:
        """Take `tokens` now (0.0), or take nothing and say how many seconds to wait."""
        ...


@dataclass(frozen=True)
class RateLimits:
    limiter: Admission
    query: BucketSpec
    mutation: BucketSpec
    webhook: BucketSpec
    enabled: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Admission) -> RateLimits:
        return cls(
            limiter=limiter,
            query=BucketSpec(capacity=settings.query_burst, rate=settings.query_rate),
            mutation=BucketSpec(capacity=settings.mutation_burst, rate=settings.mutation_rate),
            webhook=BucketSpec(capacity=settings.webhook_burst, rate=settings.webhook_rate),
            enabled=settings.rate_limits,
        )

    async def admit_operation(self, key_name: str, operation: OperationType) -> float:
        """0.0 when the key may run this operation now, else the seconds to wait."""
        if not self.enabled or operation is OperationType.SUBSCRIPTION:
            return 0.0
        if operation is OperationType.MUTATION:
            return await self.limiter.try_acquire(f"api:{key_name}:mutation", self.mutation)
        return await self.limiter.try_acquire(f"api:{key_name}:query", self.query)

    async def admit_webhook(self, channel_id: uuid.UUID) -> float:
        if not self.enabled:
            return 0.0
        return await self.limiter.try_acquire(f"webhook:{channel_id}", self.webhook)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def refused(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"Rate limit reached for this API key: retry in {seconds:.1f} s.",
        extensions={"code": "RATE_LIMITED", "retryAfter": round(seconds, 3)},
    )


async def admit(run: ExecutionContext) -> None:
    """Charge the operation to its key's bucket before it runs; when the bucket is empty,
    its result is the refusal (and over HTTP a 429 with `Retry-After`), and it does not run."""
    context = run.context
    limits: RateLimits | None = getattr(context, "rate_limits", None)
    principal = getattr(context, "principal", None)
    if limits is not None and principal is not None:
        wait = await limits.admit_operation(principal.name, run.operation_type)
        if wait > 0:
            run.result = ExecutionResult(data=None, errors=[refused(wait)])
            response = getattr(context, "response", None)
            if isinstance(response, Response):
                response.status_code = 429
                response.headers["Retry-After"] = retry_after(wait)
