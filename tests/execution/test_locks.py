"""Locks know their owner (issue 10, item 3): a lock whose owner process died is taken over at once; a lock whose
owner lives never is; on the database and on Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from arbx_pipelines.execution.lock_owner import owner_gone, pid_alive, take_lock, this_owner
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.state import LockOwner, StateStore, lock_token, owner_of
from tests.execution.crashkit import state_factory
from tests.execution.simkit import migrate

__all__ = ["state_factory"]  # the fixture, imported for pytest

NAME = "symbol:binance:ADA/USDT:USDT"


@pytest.fixture
def store(sqlite_url: str, state_factory: Callable[[Any], StateStore]) -> StateStore:
    migrate(sqlite_url)
    return state_factory(make_engine(sqlite_url))


@pytest.fixture
def live_pid() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield child.pid
    child.kill()
    child.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_token_names_its_owner() -> None:
    owner = LockOwner("run-1", 4242, "host-a")
    assert owner_of(lock_token(owner)) == owner
    assert lock_token(owner) != lock_token(owner)  # each taking is its own token
    assert owner_of("0123456789abcdef") is None


def test_liveness_of_a_process() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())


def test_a_lock_whose_owner_died_is_taken_over_at_once(store: StateStore) -> None:
    dead = lock_token(LockOwner("killed-run", dead_pid(), socket.gethostname()))
    assert store.acquire_lock(NAME, 300, dead) == dead
    me = this_owner("reconcile")
    token = take_lock(store, NAME, 30, me)
    assert token is not None and owner_of(token) == me
    assert store.lock_holder(NAME) == token
    assert not store.release_lock(NAME, dead)  # the dead run's token owns nothing any more


def test_a_lock_whose_owner_lives_is_never_taken(store: StateStore, live_pid: int) -> None:
    living = lock_token(LockOwner("live-run", live_pid, socket.gethostname()))
    assert store.acquire_lock(NAME, 300, living) == living
    assert take_lock(store, NAME, 30, this_owner("reconcile")) is None
    elsewhere = LockOwner("other-host-run", dead_pid(), "another-host")
    assert not owner_gone(lock_token(elsewhere), this_owner(None))  # judged by its heartbeat only
    assert store.lock_holder(NAME) == living


def test_the_heartbeat_extends_only_its_own_lock(store: StateStore) -> None:
    token = take_lock(store, NAME, 30, this_owner("run"))
    assert token is not None
    assert store.refresh_lock(NAME, token, 30)
    assert not store.refresh_lock(NAME, "someone-else", 30)
    assert store.release_lock(NAME, token) and store.lock_holder(NAME) is None
