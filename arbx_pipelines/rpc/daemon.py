"""Whether the Dagster daemon of this project is alive (its heartbeats in the project's DAGSTER_HOME) and where the
``arbx run`` that started it serves the UI (recorded by the ops service while it runs)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.instance import default_dagster_home
from arbx_pipelines.storage.state import DatabaseState

#: a heartbeat older than this means the process is gone (the daemon beats every ~20 s)
HEARTBEAT_MAX_AGE_S = 90.0
RUN_FLAG = "ops:arbx_run"


@dataclass(frozen=True)
class DaemonState:
    alive: bool
    detail: str


def dagster_home(loaded: LoadedConfig) -> Path:
    return default_dagster_home(loaded.base_dir)


def daemon_state(loaded: LoadedConfig, now: float | None = None) -> DaemonState:
    home = dagster_home(loaded)
    if not (home / "dagster.yaml").exists():
        return DaemonState(False, f"no Dagster instance at {home} (arbx run creates it)")
    from dagster import DagsterInstance

    now = time.time() if now is None else now
    with DagsterInstance.from_config(str(home)) as instance:
        beats = instance.get_daemon_heartbeats()
    if not beats:
        return DaemonState(False, "no daemon heartbeat recorded")
    newest = max(beat.timestamp for beat in beats.values())
    age = now - newest
    if age > HEARTBEAT_MAX_AGE_S:
        return DaemonState(False, f"last heartbeat {age:.0f}s ago")
    return DaemonState(True, f"{len(beats)} daemons, last heartbeat {age:.0f}s ago")


def record_run(engine: Engine, ui_url: str, pid: int, now: float | None = None) -> None:
    """The ops service's heartbeat: ``arbx run`` is up and serves the UI (and GraphQL) at ``ui_url``."""
    payload = {"ui_url": ui_url, "pid": pid, "at": time.time() if now is None else now}
    DatabaseState(engine).set_flag(RUN_FLAG, json.dumps(payload))


def clear_run(engine: Engine) -> None:
    DatabaseState(engine).set_flag(RUN_FLAG, None)


def running_ui_url(engine: Engine, now: float | None = None) -> str | None:
    """The UI address of a live ``arbx run`` (fresh heartbeat), else None."""
    raw = DatabaseState(engine).get_flag(RUN_FLAG)
    if raw is None:
        return None
    try:
        payload = json.loads(raw)
        age = (time.time() if now is None else now) - float(payload["at"])
        url = str(payload["ui_url"])
    except (ValueError, KeyError, TypeError):
        return None
    return url if age <= HEARTBEAT_MAX_AGE_S else None
