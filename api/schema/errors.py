"""Typed user errors: what mutations return for expected failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from domain.errors import DomainError, InvalidFields
from domain.errors import ErrorCode as DomainErrorCode

ErrorCode = strawberry.enum(
    DomainErrorCode,
    name="ErrorCode",
    description="Why a mutation did not happen. Stable: branch on these, not on messages.",
)

T = TypeVar("T")


@strawberry.type(description="An expected failure: the mutation changed nothing.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, when one is.")
    message: str
    code: ErrorCode  # type: ignore[valid-type]

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)

    @classmethod
    def list_from(cls, error: DomainError) -> list[UserError]:
        """One user error per field at fault."""
        if isinstance(error, InvalidFields):
            return [cls.from_domain(e) for e in error.errors]
        return [cls.from_domain(error)]


async def attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; a `DomainError` becomes a user error, anything else propagates (masked)."""
    try:
        return await action(), []
    except DomainError as error:
        return None, UserError.list_from(error)


@contextmanager
def query_errors() -> Iterator[None]:
    """In queries, an expected failure becomes a GraphQL error carrying its code and field."""
    try:
        yield
    except DomainError as error:
        raise GraphQLError(
            error.message, extensions={"code": error.code.value, "field": error.field}
        ) from None
