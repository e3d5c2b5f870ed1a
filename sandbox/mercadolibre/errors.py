"""MercadoLibre's error envelope: `{message, error, status, cause[]}`; a validation error's
`cause` lists `{department, cause_id, type, code, references, message}` (channel-contracts
§4). The codes the sandbox gives are its best reading (~) and kept here, in one place."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Final

TITLE_TOO_LONG: Final = "item.title.length.invalid"
TITLE_LOCKED: Final = "item.title.not_modifiable"
SELLER_SKU_MISSING: Final = "item.variations.attributes.seller_sku.missing"
PRICES_DIFFER: Final = "item.variations.price.invalid"
INVALID_FIELD: Final = "item.field.invalid"
NOT_MODIFIABLE: Final = "item.field.not_modifiable"
VARIATIONS_NOT_ALLOWED: Final = "item.variations.not_allowed"
TOO_MANY_VARIATIONS: Final = "item.variations.max_exceeded"


def cause(code: str, message: str, *references: str, kind: str = "error") -> dict[str, Any]:
    return {
        "department": "items",
        "cause_id": zlib.crc32(code.encode()) % 1000,
        "type": kind,
        "code": code,
        "references": list(references),
        "message": message,
    }


@dataclass
class MeliError(Exception):
    status: int
    error: str
    message: str
    causes: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "error": self.error,
            "status": self.status,
            "cause": self.causes,
        }


def invalid(*causes: dict[str, Any]) -> MeliError:
    return MeliError(400, "validation_error", "Validation error", list(causes))


def not_found(what: str) -> MeliError:
    return MeliError(404, "not_found", f"{what} not found")


def bad_request(message: str) -> MeliError:
    return MeliError(400, "bad_request", message)


def too_many() -> MeliError:
    return MeliError(429, "too_many_requests", "Too Many Requests")
