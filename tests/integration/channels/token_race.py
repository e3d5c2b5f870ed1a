"""One process of the token race (`test_token_store_processes.py`): ten callers at once ask
for the channel's token; the token endpoint is a Redis set of spent refresh tokens, shared by
every process (its keys named after the channel, new in each test). Prints the tokens this
process got, one per line."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio

from adapters.channel_kit.tokens import Grant
from adapters.db.engine import create_engine
from adapters.db.token_store import SqlTokenStore
from adapters.secrets import FernetSecretBox
from domain.channels.port import ChannelMisconfigured


async def main(database_url: str, redis_url: str, channel_id: str, key: str) -> None:
    spent, issued = f"token-race:{channel_id}:spent", f"token-race:{channel_id}:issued"
    engine = create_engine(database_url, pool_size=2)
    box = FernetSecretBox(key.encode())
    bus = redis.asyncio.Redis.from_url(redis_url)

    async def refresh(refresh_token: str | None) -> Grant:
        given = refresh_token or "from-credentials"
        await asyncio.sleep(0.05)  # the endpoint's round trip, so that callers overlap
        if not await bus.sadd(spent, given):
            raise ChannelMisconfigured(f"invalid_grant: {given} was used already")
        count = await bus.incr(issued)
        return Grant(f"access-{count}", datetime.now(UTC) + timedelta(hours=1), f"refresh-{count}")

    store = SqlTokenStore(engine, lambda: box)
    tokens = await asyncio.gather(
        *(store.access_token(uuid.UUID(channel_id), refresh) for _ in range(10))
    )
    print("\n".join(tokens))
    await bus.aclose()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
