"""Inbound webhooks: `POST /webhooks/{channel_id}`, verified, stored, acknowledged fast.

The channel's own port checks the signature over the raw body. A verified event is stored
in the inbox (a redelivery of one already stored changes nothing) and a job acts on it
after commit; the answer is 200 either way, so the channel stops resending. Anything that
cannot be verified — unknown channel, no credentials, a bad signature — is 401 and stores
nothing. Bodies over 1 MB are refused (413) before anything else is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.container import Container
from adapters.logging import get_logger
from domain.catalog.channel_config import ChannelConfig
from domain.sync import inbox
from domain.sync.channel import ChannelFailure, ChannelPort
from domain.sync.inbox_model import payload_text

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# The headers kept with an event, per channel kind: the channel's own, which its port reads
# again when the event is processed (topic, event id, signature, time).
CHANNEL_HEADERS: Mapping[str, tuple[str, ...]] = {"shopify": ("x-shopify-",)}


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BODY_BYTES:
            raise _TooLarge
    return bytes(received)


def _unverified(channel: str, reason: str) -> Response:
    log.warning("webhook.rejected", channel_id=channel, reason=reason)
    return JSONResponse({"error": "unauthorized"}, status_code=401)


async def _port(container: Container, channel_id: uuid.UUID) -> tuple[ChannelPort, str] | str:
    """The channel's port and kind, or why there is none."""
    async with container.uow(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        if channel is None:
            return "unknown channel"
        config = await uow.channel_configs.get(channel_id) or ChannelConfig(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
    if sealed is None:
        return "no credentials"
    try:
        return container.connector.connect(channel, config, sealed), channel.kind.value
    except ChannelFailure as failure:
        return failure.message


async def receive_webhook(request: Request) -> Response:
    container: Container = request.app.state.container
    given = request.path_params["channel_id"]
    try:
        body = await _body(request)
    except _TooLarge:
        log.warning("webhook.too_large", channel_id=given)
        return JSONResponse({"error": "payload too large"}, status_code=413)
    try:
        channel_id = uuid.UUID(given)
    except ValueError:
        return _unverified(given, "not a channel id")
    found = await _port(container, channel_id)
    if isinstance(found, str):
        return _unverified(given, found)
    port, kind = found
    headers = dict(request.headers)
    if not port.verify_webhook(headers, body):
        return _unverified(given, "bad signature")
    identity = inbox.identify(port, headers, body)
    prefixes = CHANNEL_HEADERS.get(kind, ())
    kept = {name: value for name, value in headers.items() if name.startswith(prefixes)}
    async with container.uow() as uow:
        entry = await inbox.receive(
            uow,
            channel_id=channel_id,
            identity=identity,
            headers=kept,
            body=payload_text(body),
            now=datetime.now(UTC),
        )
        await uow.commit()
    if entry is None:
        log.info("webhook.duplicate", channel_id=given, event_id=identity.event_id)
        return JSONResponse({"status": "duplicate"})
    log.info("webhook.received", channel_id=given, topic=identity.topic, inbox_id=str(entry.id))
    return JSONResponse({"status": "received"})
