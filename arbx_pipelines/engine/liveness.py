"""Who may finish an interrupted spot arbitrage (issue 13): never one a live engine or run is still working on.

The engine's heartbeat (a state-store flag, rewritten every five seconds) names its run id, process and host. An
unfinished ``spot_arb`` execution may be finished by reconcile (or the next engine start) when

* nobody can still be working on it: it is older than an arbitrage's task timeout plus the order in-flight window
  (every arbitrage is cancelled at its task timeout, and its last request reaches the venue within the window), or
* the engine that recorded it is gone: it is the engine run the heartbeat names, and that heartbeat is stale
  (:data:`STALE_S`, as the heartbeat sensor judges it), or its process is not alive on this host (a killed engine,
  known at once; an engine on another host is judged by its heartbeat only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from arbx_pipelines.engine.report import heartbeat_age_s
from arbx_pipelines.execution.lock_owner import owner_gone, this_owner
from arbx_pipelines.storage.executions import ExecutionRef
from arbx_pipelines.storage.state import StateStore

HEARTBEAT_FLAG = "engine:heartbeat"
#: no heartbeat for this long: the engine is down or stuck (the heartbeat sensor alerts from then on)
STALE_S = 30.0


@dataclass(frozen=True)
class EngineLiveness:
    """The engine as its last heartbeat shows it: its run id (None: no heartbeat) and whether it is gone."""

    run_id: str | None
    gone: bool


def engine_liveness(state: StateStore, now: datetime) -> EngineLiveness:
    raw = state.get_flag(HEARTBEAT_FLAG)
    age = heartbeat_age_s(raw, now)
    if raw is None or age is None:
        return EngineLiveness(None, True)
    try:
        beat = json.loads(raw)
        run_id, owner = beat.get("run_id"), beat.get("owner")
    except (ValueError, AttributeError):
        return EngineLiveness(None, True)
    gone = age > STALE_S or (isinstance(owner, str) and owner_gone(owner, this_owner(None)))
    return EngineLiveness(str(run_id) if run_id else None, gone)


def may_finish(execution: ExecutionRef, engine: EngineLiveness, busy_window_s: float, now: datetime) -> bool:
    """Whether no live engine or run can still be working on ``execution`` (see the module docstring)."""
    if execution.created_at is None or (now - execution.created_at).total_seconds() > busy_window_s:
        return True
    return engine.gone and engine.run_id is not None and execution.run_id == engine.run_id
