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
        "dequeue_interval_seconds": 1,
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


def embedded_instance_config() -> dict[str, Any]:
    return {
        "run_coordinator": RUN_QUEUE,
        "run_launcher": WARM_LAUNCHER,
        **DAEMON_THREADS,
        "python_logs": {"managed_python_loggers": ["arbx"], "python_log_level": "INFO"},
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
    }


def ensure_dagster_home(path: Path) -> Path:
    """Create DAGSTER_HOME with the embedded instance config unless one is already there (a config an earlier
    arbx wrote, without the warm run launcher, is brought up to date; one the user edited is kept)."""
    path.mkdir(parents=True, exist_ok=True)
    config_file = path / "dagster.yaml"
    earlier = {k: v for k, v in embedded_instance_config().items() if k != "run_launcher"}
    if not config_file.exists() or yaml.safe_load(config_file.read_text(encoding="utf-8")) == earlier:
        config_file.write_text(yaml.safe_dump(embedded_instance_config(), sort_keys=False), encoding="utf-8")
    return path


def default_dagster_home(base_dir: Path) -> Path:
    return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else base_dir / ".dagster_home"
