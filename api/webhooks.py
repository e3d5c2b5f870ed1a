"""Inbound webhooks: `POST /webhooks/{channel_id}`, verified, stored, acknowledged fast.

The channel's own port checks the signature over the raw body. A verified event is stored
in the inbox (a redelivery of one already stored changes nothing) and a job acts on it
after commit; the answer is 200 either way, so the channel stops resending. Anything that
cannot be verified — unknown channel, no credentials, a bad signature — is 401 and stores
nothing; so is one its channel signed as sent outside the replay window (`stale`, see
`domain.channels.replay`). Bodies over 1 MB are refused (413) before anything else is
read; a channel past its webhook rate (`api/rate_limits.py`) is answered 429 with
`Retry-After`.

This is the busiest request a channel makes: the channel's verifier is remembered, the
payload is not parsed when the headers say what it is, and webhooks arriving together are
stored by one statement (see `reception.receive`).
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.container import Container
from adapters.desks import reception
from adapters.desks.reception import ArrivalStatus
from adapters.logging import get_logger
from adapters.metrics import WEBHOOKS
from api.bodies import BodyTooLarge, read_capped
from api.rate_limits import RateLimits, retry_after
from domain.channels.port import EndpointChallenge

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_JSON = "application/json"
_ANSWERS = {
    ArrivalStatus.RECEIVED: (200, b'{"status":"received"}'),
    ArrivalStatus.DUPLICATE: (200, b'{"status":"duplicate"}'),
    ArrivalStatus.REJECTED: (401, b'{"error":"unauthorized"}'),
    # Signed, but sent outside the replay window: as unauthorized as a bad signature.
    ArrivalStatus.STALE: (401, b'{"error":"stale"}'),
    # The channel's credentials changed several times during the request: it resends.
    ArrivalStatus.UNSETTLED: (503, b'{"error":"try again"}'),
}


def _answer(status: ArrivalStatus) -> Response:
    code, content = _ANSWERS[status]
    return Response(content, status_code=code, media_type=_JSON)


async def receive_webhook(request: Request) -> Response:
    container: Container = request.app.state.container
    given = request.path_params["channel_id"]
    try:
        body = await read_capped(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        log.warning("webhook.too_large", channel_id=given)
        WEBHOOKS.labels("too_large").inc()
        return Response(b'{"error":"payload too large"}', status_code=413, media_type=_JSON)
    try:
        channel_id = uuid.UUID(given)
    except ValueError:
        log.warning("webhook.rejected", channel_id=given, reason="not a channel id")
        WEBHOOKS.labels(ArrivalStatus.REJECTED.value).inc()
        return _answer(ArrivalStatus.REJECTED)
    limits: RateLimits = request.app.state.rate_limits
    wait = await limits.admit_webhook(channel_id)
    if wait > 0:
        # Not accepted, so nothing lost: the channel sends it again after the wait.
        log.warning("webhook.rate_limited", channel_id=given, retry_after=wait)
        WEBHOOKS.labels("rate_limited").inc()
        return Response(
            b'{"error":"rate limited"}',
            status_code=429,
            media_type=_JSON,
            headers={"Retry-After": retry_after(wait)},
        )
    arrival = await reception.receive(
        container.reception,
        container.verifiers,
        channel_id=channel_id,
        headers=dict(request.headers),  # lower-case names
        body=body,
        now=container.clock(),
        window=container.replay_window,
    )
    identity = arrival.identity
    WEBHOOKS.labels(arrival.status.value).inc()
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
    else:  # rejected, stale, or unsettled
        log.warning(f"webhook.{arrival.status.value}", channel_id=given, reason=arrival.reason)
    return _answer(arrival.status)


async def answer_challenge(request: Request) -> Response:
    """`GET /webhooks/{channel_id}?…`: a channel checking the endpoint before it sends to it
    (eBay's challenge_code), answered by the channel's own port; 404 for anything else."""
    container: Container = request.app.state.container
    try:
        channel_id = uuid.UUID(request.path_params["channel_id"])
    except ValueError:
        return Response(b'{"error":"not found"}', status_code=404, media_type=_JSON)
    verifier = await container.verifiers.get(channel_id)
    port = None if isinstance(verifier, str) else verifier.port
    endpoint = str(request.url.remove_query_params(list(request.query_params.keys())))
    answer = (
        port.answer_challenge(dict(request.query_params), endpoint)
        if isinstance(port, EndpointChallenge)
        else None
    )
    if answer is None:
        return Response(b'{"error":"not found"}', status_code=404, media_type=_JSON)
    log.info("webhook.challenge", channel_id=str(channel_id))
    return JSONResponse(dict(answer))
