"""The state contract on Redis: atomic SET NX PX locks released by a compare-and-delete script."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from arbx_pipelines.storage.state import _quote_key, new_token

_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_SWAP_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""


class RedisState:
    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix
        self._release = client.register_script(_RELEASE_IF_OWNER)
        self._swap = client.register_script(_SWAP_IF_OWNER)

    @classmethod
    def from_url(cls, url: str, prefix: str = "") -> RedisState:
        return cls(redis.Redis.from_url(url, decode_responses=True, socket_timeout=5), prefix)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def acquire_lock(self, name: str, ttl_seconds: float, token: str | None = None) -> str | None:
        token = token or new_token()
        ok = self._redis.set(self._k(f"arbx:lock:{name}"), token, nx=True, px=max(1, int(ttl_seconds * 1000)))
        return token if ok else None

    def release_lock(self, name: str, token: str) -> bool:
        return bool(self._release(keys=[self._k(f"arbx:lock:{name}")], args=[token]))

    def lock_holder(self, name: str) -> str | None:
        raw = self._redis.get(self._k(f"arbx:lock:{name}"))
        return None if raw is None else str(raw)

    def replace_lock(self, name: str, old_token: str, new_token: str, ttl_seconds: float) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(self._swap(keys=[self._k(f"arbx:lock:{name}")], args=[old_token, new_token, ttl_ms]))

    def refresh_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        return self.replace_lock(name, token, token, ttl_seconds)

    def claim_idempotency_key(self, key: str, ttl_seconds: float) -> bool:
        return bool(self._redis.set(self._k(f"arbx:idem:{key}"), "1", nx=True, px=max(1, int(ttl_seconds * 1000))))

    def put_quote(self, venue: str, symbol: str, quote: dict[str, Any], ttl_seconds: float = 120) -> None:
        self._redis.set(self._k(_quote_key(venue, symbol)), json.dumps(quote, default=str), px=int(ttl_seconds * 1000))

    def latest_quote(self, venue: str, symbol: str) -> dict[str, Any] | None:
        raw = self._redis.get(self._k(_quote_key(venue, symbol)))
        return None if raw is None else dict(json.loads(str(raw)))

    def hit(self, name: str, window_seconds: int) -> int:
        window = int(time.time() // window_seconds)
        key = self._k(f"arbx:rate:{name}:{window}")
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds * 2)
        count, _ = pipe.execute()
        return int(count)

    def set_flag(self, name: str, value: str | None) -> None:
        key = self._k(f"arbx:flag:{name}")
        if value is None:
            self._redis.delete(key)
        else:
            self._redis.set(key, value)

    def get_flag(self, name: str) -> str | None:
        raw = self._redis.get(self._k(f"arbx:flag:{name}"))
        return None if raw is None else str(raw)
