"""Token buckets in Redis: one bucket per channel account, shared by every worker process.

Each operation is one Lua script run atomically by Redis (EVALSHA, falling back to EVAL
once per connection), so processes never read-modify-write the same bucket at once. The
script reads the time from Redis (`TIME`), not from the callers: clocks of different
machines do not have to agree (writing after `TIME` needs Redis >= 5, which replicates a
script's effects rather than the script). A bucket is a hash {tokens, ts, until}; it expires once it
would have refilled completely, since a missing bucket reads as full.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import redis.asyncio as aioredis

from domain.sync.rate_limits import BucketSpec

# KEYS[1]: the bucket. ARGV: operation, capacity, rate, amount, keep.
#   acquire: take `amount` if there with `keep` more left (returns "0"), else returns the
#            seconds to wait.
#   observe: tokens := min(capacity, amount).
#   pause:   tokens := min(tokens, 0), nothing granted for `amount` seconds.
# Numbers go back as strings: Redis would truncate a Lua number to an integer.
_SCRIPT: Final = """
local op = ARGV[1]
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local keep = tonumber(ARGV[5]) or 0
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'until')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
local paused_until = tonumber(state[3]) or 0
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local result = '0'
if op == 'acquire' then
  local needed = math.min(amount + keep, capacity)
  local pause = math.max(0, paused_until - now)
  if pause == 0 and tokens >= needed - 1e-9 then
    tokens = tokens - amount
  else
    local at_resume = math.min(capacity, tokens + pause * rate)
    result = tostring(pause + math.max(0, needed - at_resume) / rate + 1e-9)
  end
elseif op == 'observe' then
  tokens = math.min(capacity, amount)
elseif op == 'pause' then
  tokens = math.min(tokens, 0)
  paused_until = math.max(paused_until, now + amount)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts),
  'until', tostring(paused_until))
local full_in = math.max(0, paused_until - now) + (capacity - tokens) / rate
redis.call('PEXPIRE', KEYS[1], math.ceil(full_in * 1000) + 1000)
return result
"""


class RedisRateLimiter:
    """Token buckets per key in Redis, the same rules as `MemoryRateLimiter`."""

    def __init__(self, redis_client: aioredis.Redis, *, prefix: str = "nexo:ratelimit:"):
        self._redis = redis_client
        self._prefix = prefix
        self._script: Any = redis_client.register_script(_SCRIPT)

    async def _run(
        self, op: str, key: str, spec: BucketSpec, amount: float, keep: float = 0.0
    ) -> float:
        args = [op, *(repr(float(n)) for n in (spec.capacity, spec.rate, amount, keep))]
        answer = await self._script(keys=[self._prefix + key], args=args)
        return float(answer)

    async def acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> None:
        # Each wait is what Redis computed for this bucket; after it, ask again, since other
        # processes may have taken the tokens first.
        while True:
            wait = await self._run("acquire", key, spec, tokens)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def try_acquire(
        self, key: str, spec: BucketSpec, tokens: float = 1.0, *, keep: float = 0.0
    ) -> float:
        """Take `tokens` if they are there now, with `keep` more left (0.0); else take
        nothing and return the seconds until they would be (one round trip either way)."""
        return max(0.0, await self._run("acquire", key, spec, tokens, keep))

    async def observe(self, key: str, spec: BucketSpec, available: float) -> None:
        await self._run("observe", key, spec, available)

    async def pause(self, key: str, spec: BucketSpec, seconds: float) -> None:
        await self._run("pause", key, spec, seconds)
