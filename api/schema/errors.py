"""Typed user errors: what mutations return for expected failures."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

import strawberry
from graphql import GraphQLError

from domain.errors import DomainError, InvalidFields
from domain.errors import ErrorCode as DomainErrorCode

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
ErrorCode = DomainErrorCode
strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="Why a mutation did not happen. Stable: branch on these, not on messages.",
)

Payload = TypeVar("Payload")
Payload_co = TypeVar("Payload_co", covariant=True)
Params = ParamSpec("Params")


@strawberry.type(description="An expected failure: the mutation changed nothing.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, when one is.")
    message: str
    code: ErrorCode

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)

    @classmethod
    def list_from(cls, error: DomainError) -> list[UserError]:
        """One user error per field at fault."""
        if isinstance(error, InvalidFields):
            return [cls.from_domain(e) for e in error.errors]
        return [cls.from_domain(error)]


class FailedPayload(Protocol[Payload_co]):
    """A payload type: built with only its `user_errors` when the mutation changed nothing."""

    def __call__(self, *, user_errors: list[UserError]) -> Payload_co: ...


def user_errors_as(
    payload: FailedPayload[Payload],
) -> Callable[
    [Callable[Params, Awaitable[Payload]]], Callable[Params, Coroutine[Any, Any, Payload]]
]:
    """A mutation whose expected failure (a `DomainError`) answers `payload(userErrors=…)`.

    Anything else propagates (and is masked). Strawberry reads the resolver's signature
    through the wrapper (`__wrapped__`).
    """

    def decorate(
        resolve: Callable[Params, Awaitable[Payload]],
    ) -> Callable[Params, Coroutine[Any, Any, Payload]]:
        @functools.wraps(resolve)
        async def resolved(*args: Params.args, **kwargs: Params.kwargs) -> Payload:
            try:
                return await resolve(*args, **kwargs)
            except DomainError as error:
                return payload(user_errors=UserError.list_from(error))

        return resolved

    return decorate


@contextmanager
def query_errors() -> Iterator[None]:
    """In queries, an expected failure becomes a GraphQL error carrying its code and field."""
    try:
        yield
    except DomainError as error:
        raise GraphQLError(
            error.message, extensions={"code": error.code.value, "field": error.field}
        ) from None
