"""Warehouse steps refused are logged: who tried what, and why it was refused (the payload's
`userErrors` tell the caller; the log tells whoever looks into a parcel later)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from adapters.logging import get_logger
from domain.errors import DomainError, InvalidFields

log = get_logger(__name__)

Result = TypeVar("Result")
Params = ParamSpec("Params")


def logged_refusals(
    action: str,
) -> Callable[[Callable[Params, Awaitable[Result]]], Callable[Params, Coroutine[Any, Any, Result]]]:
    """A mutation whose expected failures are logged (`order.refused`), then raised on (to
    `user_errors_as`, outside it)."""

    def decorate(
        resolve: Callable[Params, Awaitable[Result]],
    ) -> Callable[Params, Coroutine[Any, Any, Result]]:
        @functools.wraps(resolve)
        async def resolved(*args: Params.args, **kwargs: Params.kwargs) -> Result:
            try:
                return await resolve(*args, **kwargs)
            except DomainError as error:
                errors = error.errors if isinstance(error, InvalidFields) else [error]
                info = kwargs.get("info")
                log.warning(
                    "order.refused",
                    action=action,
                    actor=getattr(getattr(info, "context", None), "actor", None),
                    refusals=[
                        {"code": e.code.value, "field": e.field, "message": e.message}
                        for e in errors
                    ],
                )
                raise

        return resolved

    return decorate
