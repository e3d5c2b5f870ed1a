"""Use cases for API keys: issue one (shown once), revoke it, authenticate a caller."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.access import ApiKey, Principal, Role, hash_secret, new_secret
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.events import Event
from domain.ports import UnitOfWork

BOOTSTRAP_KEY_NAME = "bootstrap-admin"
API_KEY_EVENTS = "api_keys"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the secret exists only here and is never stored."""

    key: ApiKey
    secret: str


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"unknown role {value!r}; expected one of {allowed}", field="role"
        ) from None


async def create_api_key(uow: UnitOfWork, *, name: str, role: Role) -> IssuedKey:
    """Issue a key named `name` with `role`; names are unique, revoked ones included."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "name must be 1-64 letters, digits or . _ : - and start with a letter or digit",
            field="name",
        )
    if await uow.api_keys.get_by_name(name) is not None:
        raise AlreadyExists(f"an API key named {name!r} already exists", field="name")
    secret = new_secret()
    key = ApiKey(
        id=uuid.uuid4(),
        name=name,
        role=role,
        key_hash=hash_secret(secret),
        created_at=datetime.now(UTC),
    )
    await uow.api_keys.add(key)
    uow.emit(Event(API_KEY_EVENTS, {"kind": "created", "name": name, "role": role.value}))
    return IssuedKey(key=key, secret=secret)


async def revoke_api_key(uow: UnitOfWork, *, name: str) -> None:
    if not await uow.api_keys.revoke(name):
        raise NotFound(f"no active API key named {name!r}", field="name")
    uow.emit(Event(API_KEY_EVENTS, {"kind": "revoked", "name": name}))


async def authenticate(uow: UnitOfWork, secret: str) -> Principal | None:
    """The caller a secret belongs to, or None for an unknown or revoked key."""
    key = await uow.api_keys.get_by_hash(hash_secret(secret))
    if key is None or not key.active:
        return None
    return key.principal


async def bootstrap_admin_key(uow: UnitOfWork) -> IssuedKey | None:
    """On a first run with no keys at all, issue one admin key so someone can get in.

    Only the very first run: once any key ever existed (even if all are revoked now),
    no key is handed out to whoever starts the server.
    """
    if await uow.api_keys.count() > 0:
        return None
    return await create_api_key(uow, name=BOOTSTRAP_KEY_NAME, role=Role.ADMIN)
