"""The fence around partner keys: a partner reaches only the root fields declared open to it.

A field is opened by declaring `OpenToPartners` among its permissions; its use case then
fences the partner into its location (domain/partners/work.py). Every other root field —
query, mutation or subscription, present or added later — answers a partner key FORBIDDEN
before anything runs: `fence_partners` puts `PartnerFence` on each when the schema is built
(outermost, so nothing else runs first). Each refusal, and each NOT_FOUND or FORBIDDEN an
open field gives a partner, is logged and recorded in the admin audit log.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from adapters.container import Container
from adapters.db.audit_log import AuditEntry
from adapters.logging import get_logger
from api.schema.admin_audit import input_of, recordable
from api.schema.context import Info
from domain.access import Principal, Role
from domain.clock import utcnow

log = get_logger(__name__)
FORBIDDEN = "FORBIDDEN"
REFUSALS = frozenset({"FORBIDDEN", "NOT_FOUND"})


class OpenToPartners(BasePermission):
    """Declares a root field a partner key may call; it lets every caller through itself."""

    message = "unused"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


def _is_partner(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.PARTNER


def _refused_codes(result: Any) -> list[str]:
    errors = getattr(result, "user_errors", None) or []
    return sorted({str(e.code.value) for e in errors} & REFUSALS)


class PartnerFence(FieldExtension):
    def __init__(self, open_to_partners: bool):
        self._open = open_to_partners

    def apply(self, field: StrawberryField) -> None:
        self._name = field.graphql_name or to_camel_case(field.python_name)

    def _forbidden(self, principal: Principal) -> GraphQLError:
        log.warning("partner.refused", actor=principal.name, field=self._name, code=FORBIDDEN)
        return GraphQLError(
            "A partner key reaches its own location's fulfilment requests and stock only.",
            extensions={"code": FORBIDDEN},
        )

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        principal = info.context.principal
        if _is_partner(principal) and not self._open:
            raise self._forbidden(principal)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        principal: Principal | None = info.context.principal
        if principal is None or not _is_partner(principal):
            result = next_(source, info, **kwargs)
            return await result if inspect.isawaitable(result) else result
        if not self._open:
            await self._record(info.context.container, principal, kwargs, FORBIDDEN)
            raise self._forbidden(principal)
        try:
            result = next_(source, info, **kwargs)
            result = await result if inspect.isawaitable(result) else result
        except GraphQLError as error:
            code = str((error.extensions or {}).get("code", ""))
            if code in REFUSALS:
                await self._record(info.context.container, principal, kwargs, code)
            raise
        refused = _refused_codes(result)
        if refused:
            await self._record(info.context.container, principal, kwargs, ", ".join(refused))
        return result

    async def _record(
        self, container: Container, principal: Principal, kwargs: dict[str, Any], code: str
    ) -> None:
        """The attempt, in the log and the admin audit log (never failing the answer)."""
        given = recordable(input_of(kwargs) or {k: str(v)[:200] for k, v in kwargs.items()})
        log.warning("partner.refused", actor=principal.name, field=self._name, code=code)
        entry = AuditEntry(
            id=uuid.uuid4(), at=utcnow(), actor=principal.name, action=self._name,
            subject=f"partner of location {principal.location_id}", outcome=f"refused: {code}",
            input=given, before=None, after=None,
        )  # fmt: skip
        try:
            await container.admin_audit.record(entry)
        except Exception:
            log.error("partner.record_failed", field=self._name, exc_info=True)


def fence_partners(roots: Iterable[type]) -> None:
    """Put `PartnerFence` on every root field (once): open where `OpenToPartners` is declared."""
    for root in roots:
        definition: StrawberryObjectDefinition = root.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            if any(isinstance(e, PartnerFence) for e in field.extensions):
                continue
            opened = any(p is OpenToPartners for p in field.permission_classes)
            field.extensions.append(PartnerFence(opened))  # the last is outermost
