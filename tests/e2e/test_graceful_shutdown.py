"""A stopped `nexo serve` tells its subscribers why: SIGTERM closes every open socket with
1001 (going away) and a reason before the process exits, so clients reconnect elsewhere."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from api.socket_guard import GOING_AWAY_CLOSE_CODE, GOING_AWAY_REASON
from tests.e2e.servers import STOP_TIMEOUT, nexo_env, serving
from tests.e2e.test_server import KEY, nexo

SUBSCRIBE = {
    "id": "1",
    "type": "subscribe",
    "payload": {"query": "subscription { stockChanged { sku onHand } }"},
}


async def test_sigterm_closes_open_subscriptions_with_a_reason(tmp_path: Path) -> None:
    env = nexo_env(NEXO_DATABASE_URL=f"sqlite:///{tmp_path / 'nexo.db'}")
    nexo("migrate", cwd=tmp_path, env=env)
    with serving(tmp_path, env, "serve") as (server,):
        key = KEY.findall(server.err)[0]
        async with connect(
            server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=5
        ) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
            await ws.send(json.dumps(SUBSCRIBE))
            # Messages are handled in order: once the ping is answered, the subscription is on.
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"

            server.process.terminate()
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), STOP_TIMEOUT)
            except ConnectionClosed as closed:
                received = closed.rcvd
        assert received is not None
        assert (received.code, received.reason) == (GOING_AWAY_CLOSE_CODE, GOING_AWAY_REASON)
        assert server.process.wait(timeout=STOP_TIMEOUT) is not None
