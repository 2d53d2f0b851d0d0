"""The state store of each backend, and one racer of the lock race: a module of its own, so the race's spawned
processes import only the state store (the test module imports the whole code location: seconds per process)."""

from __future__ import annotations

import multiprocessing as mp
import time

from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore


def open_state(kind: str, url: str, prefix: str) -> StateStore:
    if kind == "redis":
        return RedisState.from_url(url, prefix=prefix)
    return DatabaseState(make_engine(url))


def race(kind: str, url: str, prefix: str, start: float, results: mp.Queue) -> None:  # type: ignore[type-arg]
    store = open_state(kind, url, prefix)
    while time.time() < start:
        time.sleep(0.001)
    results.put(store.acquire_lock("race", ttl_seconds=30))
