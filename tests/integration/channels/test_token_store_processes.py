"""The token store against real processes: four of them, ten callers each, at once."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import redis.asyncio

from adapters.container import Container
from adapters.db.tables import channel_tokens

ROOT = Path(__file__).resolve().parents[3]


async def race(url: str, redis_url: str, channel: uuid.UUID, key: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.channels.token_race",
        url, redis_url, str(channel), key,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().split()


async def test_four_processes_refresh_a_single_use_token_once(
    container: Container,
    channel_id: uuid.UUID,
    database_url: str,
    redis_url: str,
) -> None:
    bus = redis.asyncio.Redis.from_url(redis_url)
    container.secrets  # noqa: B018 (made on first use: writes the key file the processes read)
    key = container.settings.secret_key_file.read_bytes().decode().strip()

    got = await asyncio.gather(*(race(database_url, redis_url, channel_id, key) for _ in range(4)))

    tokens = [token for process in got for token in process]
    assert len(tokens) == 40
    assert set(tokens) == {"access-1"}
    assert await bus.get(f"token-race:{channel_id}:issued") == b"1"
    async with container.engine.connect() as conn:
        stored = (await conn.execute(channel_tokens.select())).one()
    assert stored.channel_id == channel_id
    assert stored.refresh_token is not None
    await bus.aclose()
