"""Who may finish an interrupted spot arbitrage: never one a live engine is still working on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from arbx_pipelines.engine.liveness import HEARTBEAT_FLAG, EngineLiveness, engine_liveness, may_finish
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.executions import ExecutionRef
from arbx_pipelines.storage.state import DatabaseState, LockOwner, lock_token

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
WINDOW_S = 26.0


def _execution(run_id: str, age_s: float) -> ExecutionRef:
    return ExecutionRef(1, f"spot-{run_id}-1", "spot_arb", "cross", "ETH/USDT", "sending", None, {}, None, run_id,
                        NOW - timedelta(seconds=age_s))  # fmt: skip


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _beat(state: DatabaseState, run_id: str, pid: int, age_s: float) -> None:
    at = (NOW - timedelta(seconds=age_s)).isoformat()
    owner = lock_token(LockOwner(run_id, pid, socket.gethostname()))
    state.set_flag(HEARTBEAT_FLAG, json.dumps({"at": at, "run_id": run_id, "owner": owner}))


def test_a_young_arbitrage_waits_for_its_engine_to_be_gone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url)
    state = DatabaseState(make_engine(url))
    young, old = _execution("engine-a", 2), _execution("engine-a", WINDOW_S + 1)

    nobody = engine_liveness(state, NOW)  # no heartbeat: only the age tells
    assert nobody == EngineLiveness(None, True)
    assert not may_finish(young, nobody, WINDOW_S, NOW) and may_finish(old, nobody, WINDOW_S, NOW)

    _beat(state, "engine-a", os.getppid(), age_s=1)  # a live process on this host, beating
    alive = engine_liveness(state, NOW)
    assert alive == EngineLiveness("engine-a", False)
    assert not may_finish(young, alive, WINDOW_S, NOW) and may_finish(old, alive, WINDOW_S, NOW)

    _beat(state, "engine-a", _dead_pid(), age_s=1)  # killed: its pid is gone at once, the heartbeat still fresh
    killed = engine_liveness(state, NOW)
    assert killed == EngineLiveness("engine-a", True)
    assert may_finish(young, killed, WINDOW_S, NOW)
    assert not may_finish(_execution("7f3a9c1e", 2), killed, WINDOW_S, NOW)  # a young slow-path run's: not its

    _beat(state, "engine-a", os.getppid(), age_s=31)  # silent past the sensor's stale limit
    assert engine_liveness(state, NOW).gone
