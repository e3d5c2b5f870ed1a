"""Sealing channel credentials at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from adapters.settings import Settings, SettingsError


class FernetSecretBox:
    def __init__(self, key: bytes):
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise SettingsError(
                "invalid setting NEXO_SECRET_KEY: a Fernet key is urlsafe base64 of 32 bytes"
            ) from None

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise ValueError("sealed with another key, or tampered with") from None


def _dev_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Created readable by the owner only, and never overwritten once there.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def secret_box(settings: Settings) -> FernetSecretBox:
    """The box for these settings: NEXO_SECRET_KEY, or in dev a key file made on first use."""
    if settings.secret_key is not None:
        return FernetSecretBox(settings.secret_key.get_secret_value().encode())
    if not settings.is_dev:
        raise SettingsError("invalid setting NEXO_SECRET_KEY: required in production")
    return FernetSecretBox(_dev_key(settings.secret_key_file))
