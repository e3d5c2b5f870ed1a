"""Expected failures of use cases, each with a stable code the API reports as a user error."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes for expected failures; clients branch on these, never on messages."""

    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    STALE_EXPECTED_VALUE = "STALE_EXPECTED_VALUE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    SAME_LOCATION = "SAME_LOCATION"
    ILLEGAL_STATE = "ILLEGAL_STATE"


class DomainError(Exception):
    """An expected failure: the operation changed nothing and the caller can be told why."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class InvalidInput(DomainError):
    code = ErrorCode.INVALID_INPUT


class InvalidQuantity(DomainError):
    code = ErrorCode.INVALID_QUANTITY


class InsufficientStock(DomainError):
    code = ErrorCode.INSUFFICIENT_STOCK


class StaleExpectedValue(DomainError):
    code = ErrorCode.STALE_EXPECTED_VALUE


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class SameLocation(DomainError):
    code = ErrorCode.SAME_LOCATION


class IllegalState(DomainError):
    code = ErrorCode.ILLEGAL_STATE


class InvalidFields(InvalidInput):
    """Several fields are wrong at once: each is reported, none is written."""

    def __init__(self, errors: list[DomainError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), field=None)
        self.errors = errors

    @classmethod
    def raise_if_any(cls, errors: list[DomainError]) -> None:
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise cls(errors)
