"""The admin audit log: every admin action (keys, channels, credentials, policies) recorded
with who, when, what, and its subject before and after; read by admins only.

`AuditedAction` wraps each mutation named in `ADMIN_ACTIONS` (put on when the schema is
built, outside the permission and edge checks, so refused attempts are recorded too). What
is recorded holds no secret: inputs are redacted (`SECRET_FIELDS`), subjects are
snapshots that carry none (a key's name and role, never its hash; a channel's
configuration says whether it has credentials, never what they are).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from adapters.container import Container
from adapters.db.audit_log import AuditEntry
from adapters.db.cursors import encode_cursor
from adapters.logging import get_logger
from api.schema.context import Info
from api.schema.edge import FORBIDDEN_CHARACTERS, argument_errors
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.pagination import Connection, connection, page_size
from api.schema.permissions import IsAdmin
from domain.channels.config import ChannelConfig
from domain.clock import utcnow
from domain.errors import NotFound

log = get_logger(__name__)

REDACTED = "[redacted]"
# Input fields whose values are secrets wherever they appear.
SECRET_FIELDS = frozenset({"credentials", "secret", "password", "token"})

Snapshot = Callable[[Container, Mapping[str, Any]], Awaitable[dict[str, Any] | None]]


def _plain(value: Any) -> dict[str, Any]:
    """A JSON-shaped copy of a mapping (enums, ids, decimals and times as strings)."""
    copied: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return copied


RECORDED_STRING_CAP = 200


def recordable(value: Any) -> Any:
    """`value` with its secrets redacted and its strings made storable: what the edge may
    yet refuse (a NUL, a lone surrogate) replaced by U+FFFD, long strings cut short."""
    if isinstance(value, dict):
        return {
            recordable(k): REDACTED if k in SECRET_FIELDS else recordable(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [recordable(v) for v in value]
    if isinstance(value, str):
        cut = value[:RECORDED_STRING_CAP] + ("…" if len(value) > RECORDED_STRING_CAP else "")
        return FORBIDDEN_CHARACTERS.sub("\ufffd", cut)
    return value


async def _channel(container: Container, given: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        channel_id = parse_id(str(given.get("channelId")), "channelId")
    except NotFound:
        return None
    async with container.uow(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
    if channel is None:
        return None
    config = config or ChannelConfig(channel_id=channel_id)  # the defaults, until first set
    # The configuration says whether credentials are set (`credentials_set`), never what.
    return _plain({"channel": dataclasses.asdict(channel), "config": dataclasses.asdict(config)})


async def _api_key(container: Container, given: Mapping[str, Any]) -> dict[str, Any] | None:
    name = given.get("name")
    if not isinstance(name, str):
        return None
    async with container.uow(readonly=True) as uow:
        key = await uow.api_keys.get_by_name(name)
    if key is None:
        return None
    return _plain(
        {
            "name": key.name,
            "role": key.role.value,
            "createdAt": key.created_at,
            "revokedAt": key.revoked_at,
            "previousValidUntil": key.previous_valid_until,
        }
    )


async def _rates(container: Container, given: Mapping[str, Any]) -> dict[str, Any] | None:
    async with container.uow(readonly=True) as uow:
        rates = await uow.pricing.rates()
    pair = (given.get("fromCurrency"), given.get("toCurrency"))
    found = rates.get(pair)  # type: ignore[arg-type]
    return None if found is None else {"rate": str(found)}


def _location_id(given: Mapping[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(given.get("locationId")))
    except ValueError:
        return None


async def _location_zones(container: Container, given: Mapping[str, Any]) -> dict[str, Any] | None:
    if (location_id := _location_id(given)) is None:
        return None
    async with container.uow(readonly=True) as uow:
        location = await uow.inventory.get_location(location_id)
    return None if location is None else {"zones": [str(z) for z in location.zones]}


async def _location_partner(
    container: Container, given: Mapping[str, Any]
) -> dict[str, Any] | None:
    if (location_id := _location_id(given)) is None:
        return None
    async with container.uow(readonly=True) as uow:
        endpoint = await uow.partners.endpoint(location_id)
    # The URL and when it was set; never the secret.
    return None if endpoint is None else _plain({"url": endpoint.url, "at": endpoint.updated_at})


ADMIN_ACTIONS: Mapping[str, Snapshot] = {
    "createApiKey": _api_key,
    "revokeApiKey": _api_key,
    "rotateApiKey": _api_key,
    "createChannel": _channel,
    "setChannelCredentials": _channel,
    "setChannelSync": _channel,
    "setChannelSkuRule": _channel,
    "setPriceRule": _channel,
    "setSkuPriceOverride": _channel,
    "scheduleSalePrice": _channel,
    "setListingRule": _channel,
    "setStockEditPolicy": _channel,
    "setConflictPolicy": _channel,
    "setChannelFulfilment": _channel,
    "requestReconcile": _channel,
    "setCurrencyRate": _rates,
    "setLocationZones": _location_zones,
    "setLocationPartner": _location_partner,
}


def input_of(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    given = kwargs.get("input")
    if given is None or not dataclasses.is_dataclass(given) or isinstance(given, type):
        return {}
    return _plain(_camel(dataclasses.asdict(given)))


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_camel_case(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _outcome(result: Any) -> str:
    errors = getattr(result, "user_errors", None) or []
    if errors:
        return "refused: " + ", ".join(sorted({str(e.code.value) for e in errors}))[:180]
    return "done"


def _subject(action: str, given: Mapping[str, Any]) -> str | None:
    for name in ("name", "channelId", "locationId"):
        if isinstance(given.get(name), str):
            return f"{name}={given[name]}"[:200]
    if action == "setCurrencyRate":
        return f"{given.get('fromCurrency')}->{given.get('toCurrency')}"[:200]
    return None


class AuditedAction(FieldExtension):
    """Records the admin action it wraps: before, the action, after, then the entry."""

    def __init__(self, action: str, snapshot: Snapshot):
        self._action = action
        self._snapshot = snapshot

    async def _safely(self, container: Container, given: Mapping[str, Any]) -> Any:
        try:
            return await self._snapshot(container, given)
        except Exception:
            log.warning("admin_audit.snapshot_failed", action=self._action, exc_info=True)
            return None

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        container: Container = info.context.container
        given = recordable(input_of(kwargs))
        # Input the edge will refuse is not looked up (a NUL would fail the very lookup).
        valid = not argument_errors(kwargs, {})
        before = await self._safely(container, given) if valid else None
        outcome = "failed"
        try:
            result = await next_(source, info, **kwargs)
            outcome = _outcome(result)
            return result
        finally:
            after = await self._safely(container, given) if outcome == "done" else before
            entry = AuditEntry(
                id=uuid.uuid4(),
                at=utcnow(),
                actor=info.context.actor,
                action=self._action,
                subject=_subject(self._action, given),
                outcome=outcome,
                input=given,
                before=before,
                after=after,
            )
            try:
                await container.admin_audit.record(entry)
            except Exception:
                log.error("admin_audit.record_failed", action=self._action, exc_info=True)


def audit_admin_actions(mutation: type) -> list[str]:
    """Put `AuditedAction` on each admin action of the Mutation type (once); their names."""
    definition: StrawberryObjectDefinition = mutation.__strawberry_definition__  # type: ignore[attr-defined]
    audited = []
    for field in definition.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        snapshot = ADMIN_ACTIONS.get(name)
        if snapshot is None:
            continue
        if not any(isinstance(e, AuditedAction) for e in field.extensions):
            field.extensions.append(AuditedAction(name, snapshot))  # the last is outermost
        audited.append(name)
    return audited


@strawberry.type(description="One admin action: who, when, what, its subject before and after.")
class AdminAuditEntry:
    id: strawberry.ID
    at: datetime
    actor: str
    action: str
    subject: str | None
    outcome: str = strawberry.field(description="`done`, `refused: <codes>` or `failed`.")
    input: JSON = strawberry.field(description="The input, secrets redacted.")
    before: JSON | None
    after: JSON | None

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> AdminAuditEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            outcome=entry.outcome,
            input=cast(JSON, entry.input),
            before=cast(JSON | None, entry.before),
            after=cast(JSON | None, entry.after),
        )


@strawberry.type
class AdminAuditQuery:
    @strawberry.field(
        permission_classes=[IsAdmin], description="Admin actions, newest first (admins only)."
    )
    async def admin_audit(
        self, info: Info, first: int = 50, after: str | None = None, action: str | None = None
    ) -> Connection[AdminAuditEntry]:
        with query_errors():
            size = page_size(first)
            rows = await info.context.container.admin_audit.page(
                first=size + 1, after=after, action=action
            )
        return connection(rows, size, _cursor, AdminAuditEntry.from_entry)


def _cursor(entry: AuditEntry) -> str:
    return encode_cursor(entry.at.isoformat(), entry.id)
