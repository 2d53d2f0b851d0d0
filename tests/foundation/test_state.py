"""The shared-state contract on Redis, on PostgreSQL and on SQLite: one behaviour, three backends."""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from pathlib import Path

import pytest

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.definitions import build_resources
from arbx_pipelines.resources.database import StateResource
from arbx_pipelines.storage.db import upgrade
from arbx_pipelines.storage.state import StateStore
from tests.foundation.state_race import open_state as _open_state
from tests.foundation.state_race import race


@pytest.fixture(params=["redis", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """(kind, url, key prefix) of a fresh state store."""
    kind = request.param
    if kind == "redis":
        url = str(request.getfixturevalue("redis_url"))
    else:
        url = str(request.getfixturevalue("sqlite_url" if kind == "sqlite" else "pg_url"))
        upgrade(url)
    return kind, url, f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def state(backend: tuple[str, str, str]) -> StateStore:
    return _open_state(*backend)


def test_lock_has_one_owner_and_only_the_owner_releases(state: StateStore) -> None:
    token = state.acquire_lock("BTC/USDT:USDT", ttl_seconds=30)
    assert token is not None
    assert state.acquire_lock("BTC/USDT:USDT", ttl_seconds=30) is None
    assert state.release_lock("BTC/USDT:USDT", "not-the-owner") is False
    assert state.acquire_lock("BTC/USDT:USDT", ttl_seconds=30) is None
    assert state.release_lock("BTC/USDT:USDT", token) is True
    assert state.acquire_lock("BTC/USDT:USDT", ttl_seconds=30) is not None


def test_lock_expires_after_its_ttl(state: StateStore) -> None:
    first = state.acquire_lock("ETH/USDT:USDT", ttl_seconds=0.3)
    assert first is not None
    time.sleep(0.5)
    second = state.acquire_lock("ETH/USDT:USDT", ttl_seconds=30)
    assert second is not None and second != first
    assert state.release_lock("ETH/USDT:USDT", first) is False  # the expired owner cannot free the new one


def test_idempotency_key_is_claimed_once(state: StateStore) -> None:
    assert state.claim_idempotency_key("open:binance:BTC:1700000000", ttl_seconds=60) is True
    assert state.claim_idempotency_key("open:binance:BTC:1700000000", ttl_seconds=60) is False
    assert state.claim_idempotency_key("open:binance:BTC:1700028800", ttl_seconds=60) is True


def test_latest_quote_cache(state: StateStore) -> None:
    assert state.latest_quote("okx", "SOL/USDT") is None
    state.put_quote("okx", "SOL/USDT", {"bid": "150.1", "ask": "150.2"})
    state.put_quote("okx", "SOL/USDT", {"bid": "150.3", "ask": "150.4"})
    assert state.latest_quote("okx", "SOL/USDT") == {"bid": "150.3", "ask": "150.4"}


def test_rate_limit_counter_counts_within_the_window(state: StateStore) -> None:
    name = f"telegram-{uuid.uuid4().hex}"
    assert [state.hit(name, window_seconds=3600) for _ in range(4)] == [1, 2, 3, 4]


def test_flags_persist_until_cleared(state: StateStore) -> None:
    assert state.get_flag("halt") is None
    state.set_flag("halt", "operator: maintenance")
    assert state.get_flag("halt") == "operator: maintenance"
    state.set_flag("halt", None)
    assert state.get_flag("halt") is None


def test_processes_racing_for_one_lock_get_one_winner(backend: tuple[str, str, str]) -> None:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    start = time.time() + 2.0  # all processes are up by then and try at the same moment
    procs = [ctx.Process(target=race, args=(*backend, start, results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    tokens = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    winners = [t for t in tokens if t is not None]
    assert len(winners) == 1, tokens
    assert _open_state(*backend).release_lock("race", winners[0]) is True


def test_the_configured_redis_prefix_starts_every_key(tmp_path: Path, redis_url: str) -> None:
    """``redis.prefix`` reaches the state store the code location builds (several deployments on one Redis)."""
    import redis

    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    path = tmp_path / "arbx.yaml"
    path.write_text(f"data_dir: {tmp_path}\nredis:\n  url: {redis_url}\n  prefix: '{prefix}'\n", encoding="utf-8")
    store = build_resources(load_config(path, env={}), str(path))["state"]
    assert isinstance(store, StateResource)
    token = store.store.acquire_lock("BTC/USDT:USDT", ttl_seconds=30)
    assert token is not None
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.get(f"{prefix}arbx:lock:BTC/USDT:USDT") == token
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
