"""Inbound webhooks: `POST /webhooks/{channel_id}`, verified, stored, acknowledged fast.

The channel's own port checks the signature over the raw body. A verified event is stored
in the inbox (a redelivery of one already stored changes nothing) and a job acts on it
after commit; the answer is 200 either way, so the channel stops resending. Anything that
cannot be verified — unknown channel, no credentials, a bad signature — is 401 and stores
nothing. Bodies over 1 MB are refused (413) before anything else is read.

This is the busiest request a channel makes: the channel's verifier is remembered, the
payload is not parsed when the headers say what it is, and webhooks arriving together are
stored by one statement (see `reception.receive`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from adapters.container import Container
from adapters.logging import get_logger
from domain.sync import reception
from domain.sync.reception import ArrivalStatus

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_JSON = "application/json"
_ANSWERS = {
    ArrivalStatus.RECEIVED: (200, b'{"status":"received"}'),
    ArrivalStatus.DUPLICATE: (200, b'{"status":"duplicate"}'),
    ArrivalStatus.REJECTED: (401, b'{"error":"unauthorized"}'),
    # The channel's credentials changed several times during the request: it resends.
    ArrivalStatus.UNSETTLED: (503, b'{"error":"try again"}'),
}


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


def _answer(status: ArrivalStatus) -> Response:
    code, content = _ANSWERS[status]
    return Response(content, status_code=code, media_type=_JSON)


async def receive_webhook(request: Request) -> Response:
    container: Container = request.app.state.container
    given = request.path_params["channel_id"]
    try:
        body = await _body(request)
    except _TooLarge:
        log.warning("webhook.too_large", channel_id=given)
        return Response(b'{"error":"payload too large"}', status_code=413, media_type=_JSON)
    try:
        channel_id = uuid.UUID(given)
    except ValueError:
        log.warning("webhook.rejected", channel_id=given, reason="not a channel id")
        return _answer(ArrivalStatus.REJECTED)
    arrival = await reception.receive(
        container.reception,
        container.verifiers,
        channel_id=channel_id,
        headers=dict(request.headers),  # lower-case names
        body=body,
        now=datetime.now(UTC),
    )
    identity = arrival.identity
    if arrival.status is ArrivalStatus.RECEIVED:
        # The inbox row is the record of every webhook received: a log line per webhook
        # would only repeat it, on the busiest path, so it is a debug one.
        assert identity is not None
        log.debug(
            "webhook.received", channel_id=given, topic=identity.topic,
            inbox_id=str(arrival.inbox_id),
        )  # fmt: skip
    elif arrival.status is ArrivalStatus.DUPLICATE:
        assert identity is not None
        log.info("webhook.duplicate", channel_id=given, event_id=identity.event_id)
    else:  # rejected, or unsettled
        log.warning(f"webhook.{arrival.status.value}", channel_id=given, reason=arrival.reason)
    return _answer(arrival.status)
