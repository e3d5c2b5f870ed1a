"""Schema area: API keys and the caller's own identity."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.node import Node
from api.schema.partner_fence import OpenToPartners
from api.schema.permissions import IsAdmin
from api.schema.scalars import Role
from domain import api_keys as use_cases
from domain.access import ApiKey as DomainApiKey
from domain.access import Role as DomainRole


@strawberry.type(description="The caller, as identified by its API key.")
class Viewer:
    name: str
    role: Role
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="A partner key's location: the only one it sees."
    )


@strawberry.type
class ApiKey(Node):
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None
    location_id: strawberry.ID | None
    former_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation: until when the former secret still works."
    )

    @classmethod
    def from_domain(cls, key: DomainApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(str(key.id)),
            name=key.name,
            role=key.role,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            location_id=strawberry.ID(str(key.location_id)) if key.location_id else None,
            former_secret_valid_until=key.previous_valid_until,
        )


@strawberry.input
class CreateApiKeyInput:
    name: str
    role: Role
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="A PARTNER key's dropship or 3PL location (theirs only)."
    )


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


@strawberry.input
class RotateApiKeyInput:
    name: str
    grace_seconds: int = strawberry.field(
        default=86_400,
        description="How long the current secret keeps working beside the new one (0-30 days).",
    )


@strawberry.type
class RotateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The new secret: shown once, never stored."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A key was created, rotated or revoked.")
class ApiKeyEvent:
    kind: str
    name: str


@strawberry.type
class AccessQuery:
    @strawberry.field(description="Who is calling.", permission_classes=[OpenToPartners])
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        assert principal is not None  # the HTTP and WebSocket guards admit callers only
        located = principal.partner_location
        return Viewer(
            name=principal.name,
            role=principal.role,
            location_id=strawberry.ID(str(located)) if located else None,
        )

    @strawberry.field(permission_classes=[IsAdmin])
    async def api_keys(self, info: Info) -> list[ApiKey]:
        async with info.context.container.uow(readonly=True) as uow:
            return [ApiKey.from_domain(k) for k in await uow.api_keys.list()]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(permission_classes=[IsAdmin])
    @user_errors_as(CreateApiKeyPayload)
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        async with info.context.container.uow() as uow:
            issued = await use_cases.create_api_key(
                uow,
                name=input.name,
                role=DomainRole(input.role),
                location_id=None
                if input.location_id is None
                else parse_id(input.location_id, "locationId"),
            )
            await uow.commit()
        return CreateApiKeyPayload(api_key=ApiKey.from_domain(issued.key), secret=issued.secret)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="A new secret for a key; the current one works until the grace ends.",
    )
    @user_errors_as(RotateApiKeyPayload)
    async def rotate_api_key(self, info: Info, input: RotateApiKeyInput) -> RotateApiKeyPayload:
        async with info.context.container.uow() as uow:
            issued = await use_cases.rotate_api_key(
                uow, name=input.name, grace=timedelta(seconds=input.grace_seconds)
            )
            await uow.commit()
        return RotateApiKeyPayload(api_key=ApiKey.from_domain(issued.key), secret=issued.secret)

    @strawberry.mutation(permission_classes=[IsAdmin])
    @user_errors_as(RevokeApiKeyPayload)
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        async with info.context.container.uow() as uow:
            await use_cases.revoke_api_key(uow, name=input.name)
            await uow.commit()
        return RevokeApiKeyPayload(revoked=True)


@strawberry.type
class AccessSubscription:
    @strawberry.subscription(permission_classes=[IsAdmin])
    async def api_key_events(self, info: Info) -> AsyncGenerator[ApiKeyEvent, None]:
        async with info.context.container.bus.subscribe(use_cases.API_KEY_EVENTS) as events:
            async for event in events:
                yield ApiKeyEvent(kind=str(event["kind"]), name=str(event["name"]))
