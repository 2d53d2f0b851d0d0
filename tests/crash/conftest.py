"""One crash world per venue for the whole crash suite (simulator, SQLite template, warm clients): each case
starts a fresh simulator and an empty database inside it, so sharing the world shares only what is expensive."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbx_pipelines.bench.crash_sweep import Worlds


@pytest.fixture(scope="session")
def crash_worlds() -> Iterator[Worlds]:
    import redis

    from tests.conftest import REDIS_TEST_URL, _unavailable

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {REDIS_TEST_URL}", exc)
    with tempfile.TemporaryDirectory(prefix="arbx-crash-suite-") as tmp:
        worlds = Worlds(Path(tmp), REDIS_TEST_URL)
        try:
            yield worlds
        finally:
            worlds.close()
