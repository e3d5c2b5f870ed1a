"""Permissions declared on fields: who may read, who may change."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.schema.context import Info


class IsAuthenticated(BasePermission):
    message = "An API key is required."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None


class CanMutate(BasePermission):
    """`staff` and `admin` keys; `readonly` keys may query and subscribe only."""

    message = "This API key is read-only."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.role.can_mutate


class IsAdmin(BasePermission):
    message = "This operation needs an admin API key."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.role.can_manage_keys
