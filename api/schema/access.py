"""Schema area: API keys and the caller's own identity."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, attempt
from api.schema.permissions import IsAdmin
from api.schema.scalars import Role
from domain import api_keys as use_cases
from domain.access import ApiKey as DomainApiKey
from domain.access import Role as DomainRole


@strawberry.type(description="The caller, as identified by its API key.")
class Viewer:
    name: str
    role: Role  # type: ignore[valid-type]


@strawberry.type
class ApiKey:
    name: str
    role: Role  # type: ignore[valid-type]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, key: DomainApiKey) -> ApiKey:
        return cls(
            name=key.name, role=key.role, created_at=key.created_at, revoked_at=key.revoked_at
        )


@strawberry.input
class CreateApiKeyInput:
    name: str
    role: Role  # type: ignore[valid-type]


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The key itself: shown once, never stored."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiKeyInput:
    name: str


@strawberry.type
class RevokeApiKeyPayload:
    revoked: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A key was created or revoked.")
class ApiKeyEvent:
    kind: str
    name: str


@strawberry.type
class AccessQuery:
    @strawberry.field(description="Who is calling.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        assert principal is not None  # the HTTP and WebSocket guards admit callers only
        return Viewer(name=principal.name, role=principal.role)

    @strawberry.field(permission_classes=[IsAdmin])
    async def api_keys(self, info: Info) -> list[ApiKey]:
        async with info.context.container.uow(readonly=True) as uow:
            return [ApiKey.from_domain(k) for k in await uow.api_keys.list()]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        async def run() -> use_cases.IssuedKey:
            async with info.context.container.uow() as uow:
                issued = await use_cases.create_api_key(
                    uow, name=input.name, role=DomainRole(input.role)
                )
                await uow.commit()
                return issued

        issued, errors = await attempt(run)
        if issued is None:
            return CreateApiKeyPayload(user_errors=errors)
        return CreateApiKeyPayload(api_key=ApiKey.from_domain(issued.key), secret=issued.secret)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        async def run() -> None:
            async with info.context.container.uow() as uow:
                await use_cases.revoke_api_key(uow, name=input.name)
                await uow.commit()

        _, errors = await attempt(run)
        return RevokeApiKeyPayload(revoked=not errors, user_errors=errors)


@strawberry.type
class AccessSubscription:
    @strawberry.subscription(permission_classes=[IsAdmin])
    async def api_key_events(self, info: Info) -> AsyncGenerator[ApiKeyEvent, None]:
        async with info.context.container.bus.subscribe(use_cases.API_KEY_EVENTS) as events:
            async for event in events:
                yield ApiKeyEvent(kind=str(event["kind"]), name=str(event["name"]))
