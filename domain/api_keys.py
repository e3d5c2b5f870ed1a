"""Use cases for API keys: issue one (shown once), revoke it, authenticate a caller."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.access import ApiKey, Principal, Role, hash_secret, new_secret
from domain.clock import utcnow
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.events import Event
from domain.inventory.model import LocationKind
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


# Locations whose work is handed to a partner (see domain/partners): a partner key opens one.
PARTNER_KINDS = frozenset({LocationKind.DROPSHIP, LocationKind.THIRD_PARTY})


async def create_api_key(
    uow: UnitOfWork, *, name: str, role: Role, location_id: uuid.UUID | None = None
) -> IssuedKey:
    """Issue a key named `name` with `role`; names are unique, revoked ones included.
    A partner key is fenced into `location_id`, a dropship or 3PL location (and only it
    names one)."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "name must be 1-64 letters, digits or . _ : - and start with a letter or digit",
            field="name",
        )
    await _check_location(uow, role, location_id)
    if await uow.api_keys.get_by_name(name) is not None:
        raise AlreadyExists(f"an API key named {name!r} already exists", field="name")
    secret = new_secret()
    key = ApiKey(
        id=uuid.uuid4(),
        name=name,
        role=role,
        key_hash=hash_secret(secret),
        created_at=utcnow(),
        location_id=location_id,
    )
    await uow.api_keys.add(key)
    uow.emit(Event(API_KEY_EVENTS, {"kind": "created", "name": name, "role": role.value}))
    return IssuedKey(key=key, secret=secret)


async def _check_location(uow: UnitOfWork, role: Role, location_id: uuid.UUID | None) -> None:
    if role is not Role.PARTNER:
        if location_id is not None:
            raise InvalidInput("only a partner key names a location", field="locationId")
        return
    if location_id is None:
        raise InvalidInput("a partner key names its location", field="locationId")
    location = await uow.inventory.get_location(location_id)
    if location is None:
        raise NotFound(f"unknown location {location_id}", field="locationId")
    if location.kind not in PARTNER_KINDS:
        raise InvalidInput(
            f"a partner key opens a dropship or 3pl location, not a {location.kind.value} one",
            field="locationId",
        )


async def revoke_api_key(uow: UnitOfWork, *, name: str) -> None:
    if not await uow.api_keys.revoke(name):
        raise NotFound(f"no active API key named {name!r}", field="name")
    uow.emit(Event(API_KEY_EVENTS, {"kind": "revoked", "name": name}))


MAX_ROTATION_GRACE = timedelta(days=30)


async def rotate_api_key(
    uow: UnitOfWork, *, name: str, grace: timedelta, now: datetime | None = None
) -> IssuedKey:
    """Give key `name` a new secret (shown once); the current one keeps working for `grace`
    so clients can switch without downtime. Rotating again ends the former one at once."""
    if not timedelta(0) <= grace <= MAX_ROTATION_GRACE:
        raise InvalidInput(
            f"the grace period is 0 to {MAX_ROTATION_GRACE.days} days", field="graceSeconds"
        )
    key = await uow.api_keys.get_by_name(name)
    if key is None or not key.active:
        raise NotFound(f"no active API key named {name!r}", field="name")
    secret = new_secret()
    deadline = (now or utcnow()) + grace
    if not await uow.api_keys.rotate(name, hash_secret(secret), deadline):
        raise NotFound(f"no active API key named {name!r}", field="name")
    uow.emit(Event(API_KEY_EVENTS, {"kind": "rotated", "name": name}))
    rotated = dataclasses.replace(
        key,
        key_hash=hash_secret(secret),
        previous_key_hash=key.key_hash,
        previous_valid_until=deadline,
    )
    return IssuedKey(key=rotated, secret=secret)


async def authenticate(
    uow: UnitOfWork, secret: str, now: datetime | None = None
) -> Principal | None:
    """The caller a secret belongs to, or None for an unknown, revoked or expired one."""
    digest = hash_secret(secret)
    key = await uow.api_keys.get_by_hash(digest)
    if key is None or not key.accepts(digest, now or utcnow()):
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
