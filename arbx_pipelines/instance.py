"""The Dagster instance of the embedded default mode: SQLite storage in a project-local DAGSTER_HOME,
with the same run queue and per-symbol concurrency limit as production (``dagster.yaml``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

SYMBOL_TAG = "arbx/symbol"

RUN_QUEUE: dict[str, Any] = {
    "module": "dagster.core.run_coordinator",
    "class": "QueuedRunCoordinator",
    "config": {
        "max_concurrent_runs": 10,
        # launch queued runs in parallel threads: one at a time takes seconds each when several signals fire
        "dequeue_use_threads": True,
        "dequeue_num_workers": 4,
        # every 2 s: half the run-storage reads of an idle daemon, at most 1 s more before a run starts
        "dequeue_interval_seconds": 2,
        "tag_concurrency_limits": [{"key": SYMBOL_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}],
    },
}


#: runs start as forks of a server that imported the code location once (seconds faster than a fresh Python)
WARM_LAUNCHER: dict[str, Any] = {"module": "arbx_pipelines.launcher", "class": "WarmRunLauncher"}

#: evaluate sensors and schedules in threads, so a slow one (position risk asks the venues) never delays another
DAEMON_THREADS: dict[str, Any] = {
    "sensors": {"use_threads": True, "num_workers": 4},
    "schedules": {"use_threads": True, "num_workers": 2},
}


#: a run whose process died with an earlier start (arbx run killed, the machine rebooted) is marked failed instead
#: of staying STARTED for ever and holding its symbol's slot in the run queue (as in production, ``dagster.yaml``)
RUN_MONITORING: dict[str, Any] = {"enabled": True, "poll_interval_seconds": 15, "start_timeout_seconds": 180}


#: no asset of this code location has an automation condition or a Dagster freshness policy: the daemons that would
#: evaluate them (every few seconds, each a round of storage queries) are not started
NO_AUTOMATION: dict[str, Any] = {
    "auto_materialize": {"enabled": False, "use_sensors": False},
    "freshness": {"enabled": False},
}


def embedded_instance_config() -> dict[str, Any]:
    return {
        "run_coordinator": RUN_QUEUE,
        "run_launcher": WARM_LAUNCHER,
        "run_monitoring": RUN_MONITORING,
        **DAEMON_THREADS,
        **NO_AUTOMATION,
        "python_logs": {"managed_python_loggers": ["arbx"], "python_log_level": "INFO"},
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
    }


def _earlier_configs() -> list[dict[str, Any]]:
    """What earlier arbx versions wrote: without the warm run launcher and run monitoring, then without monitoring,
    then all of it; each before or after the automation daemons were switched off, and with the run queue polled
    every second or every two."""
    current = embedded_instance_config()
    missing: list[tuple[str, ...]] = [("run_launcher", "run_monitoring"), ("run_monitoring",), ()]
    missing = [keys + extra for keys in missing for extra in (tuple(NO_AUTOMATION), ())]
    every_second = {**RUN_QUEUE, "config": {**RUN_QUEUE["config"], "dequeue_interval_seconds": 1}}
    earlier = []
    for keys in missing:
        for queue in (RUN_QUEUE, every_second):
            config = {k: v for k, v in current.items() if k not in keys} | {"run_coordinator": queue}
            if config != current:
                earlier.append(config)
    return earlier


def ensure_dagster_home(path: Path) -> Path:
    """Create DAGSTER_HOME with the embedded instance config unless one is already there (a config an earlier
    arbx wrote is brought up to date; one the user edited is kept)."""
    path.mkdir(parents=True, exist_ok=True)
    config_file = path / "dagster.yaml"
    if not config_file.exists() or yaml.safe_load(config_file.read_text(encoding="utf-8")) in _earlier_configs():
        config_file.write_text(yaml.safe_dump(embedded_instance_config(), sort_keys=False), encoding="utf-8")
    return path


def default_dagster_home(base_dir: Path) -> Path:
    return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else base_dir / ".dagster_home"
