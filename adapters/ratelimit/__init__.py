"""Token buckets for the channels' rate limits (`domain.sync.rate_limits.RateLimiter`).

`MemoryRateLimiter` keeps the buckets in the process (the embedded, single-process default);
`RedisRateLimiter` keeps them in Redis so every worker process draws from the same bucket.
Both follow the same rules:

- a bucket starts full, refills at `spec.rate` tokens per second up to `spec.capacity`;
- `acquire(n)` waits until `n` tokens are there and takes them; a call costing more than
  the whole bucket waits for a full bucket and leaves it in debt (negative), so it still
  pays its full cost before the next one;
- `try_acquire(n)` takes `n` tokens if they are there and returns 0, else takes nothing and
  returns the seconds to wait (admission control: the API's per-key limits);
- `observe(available)` replaces the estimate with the channel's own figure;
- `pause(seconds)` empties the bucket and grants nothing until the pause ends; it keeps
  refilling meanwhile, so `pause` then `observe` leaves the channel's figure plus what the
  pause restores.
"""

from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.ratelimit.redis import RedisRateLimiter

__all__ = ["MemoryRateLimiter", "RedisRateLimiter"]
