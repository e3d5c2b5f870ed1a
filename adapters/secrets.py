"""Sealing channel credentials at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

A new NEXO_SECRET_KEY is rolled out with the former one as NEXO_PREVIOUS_SECRET_KEY: every
process then opens what either sealed and seals with the new one, and `nexo secrets reseal`
re-seals everything stored under the new key; the previous key can then be dropped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from adapters.settings import Settings, SettingsError


def _fernet(key: bytes, setting: str) -> Fernet:
    try:
        return Fernet(key)
    except ValueError:
        raise SettingsError(
            f"invalid setting {setting}: a Fernet key is urlsafe base64 of 32 bytes"
        ) from None


class FernetSecretBox:
    """Seals with `key`; opens what `key` or any of `previous` sealed."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()):
        self._fernet = MultiFernet(
            [
                _fernet(key, "NEXO_SECRET_KEY"),
                *(_fernet(k, "NEXO_PREVIOUS_SECRET_KEY") for k in previous),
            ]
        )

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise ValueError("sealed with another key, or tampered with") from None

    def reseal(self, sealed: bytes) -> bytes:
        """The same secret sealed under the current key."""
        try:
            return self._fernet.rotate(sealed)
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
    former = settings.previous_secret_key
    previous = [former.get_secret_value().encode()] if former is not None else []
    if settings.secret_key is not None:
        return FernetSecretBox(settings.secret_key.get_secret_value().encode(), previous)
    if not settings.is_dev:
        raise SettingsError("invalid setting NEXO_SECRET_KEY: required in production")
    return FernetSecretBox(_dev_key(settings.secret_key_file), previous)
