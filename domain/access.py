"""Who may call Nexo: API keys, their roles, and what each role may do."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

KEY_PREFIX = "nexo_"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    READONLY = "readonly"
    # A dropship supplier or 3PL: sees and acts on its own location's work only.
    PARTNER = "partner"

    @property
    def can_mutate(self) -> bool:
        return self is not Role.READONLY

    @property
    def can_manage_keys(self) -> bool:
        return self is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller; its name is the actor recorded on every change it makes."""

    name: str
    role: Role
    location_id: uuid.UUID | None = None  # a partner's: the one location it may see

    @property
    def partner_location(self) -> uuid.UUID | None:
        """The location a partner is fenced into; None for the merchant's own keys."""
        return self.location_id if self.role is Role.PARTNER else None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    name: str
    role: Role
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    # After a rotation: the former secret's hash, still accepted until its deadline.
    previous_key_hash: str | None = None
    previous_valid_until: datetime | None = None
    location_id: uuid.UUID | None = None  # set for (and only for) a partner key

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def accepts(self, key_hash: str, now: datetime) -> bool:
        """Whether a secret of this hash opens the key now: the current one while the key
        is active, the former one until its deadline too."""
        if not self.active:
            return False
        if key_hash == self.key_hash:
            return True
        return (
            key_hash == self.previous_key_hash
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        )

    @property
    def principal(self) -> Principal:
        return Principal(name=self.name, role=self.role, location_id=self.location_id)


def new_secret() -> str:
    """A fresh key: 256 random bits, recognisable by its prefix in logs and secret scanners."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Keys are high-entropy random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_bearer(value: str | None) -> str | None:
    """The key in an `Authorization: Bearer <key>` value, or None when absent or malformed."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
