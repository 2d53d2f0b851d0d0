"""``arbx run``: the main job - Dagster UI and daemon on 127.0.0.1:3000 with schedules and sensors on.

In ``sim`` mode the simulated venues are started first on loopback, so nothing outside this machine is needed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from arbx_pipelines.config.startup import load_settings
from arbx_pipelines.instance import default_dagster_home, ensure_dagster_home
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.db import upgrade

log = get_logger("arbx.run")
PROJECT_DIR = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = sub.add_parser("run", help="start the Dagster UI + daemon (schedules and sensors on)")
    run.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--live", action="store_true", help="the live-trading opt-in for this start")
    run.set_defaults(handler=_run)


def simulator_command(port: int) -> list[str] | None:
    """The command that starts the simulated venues, or None while the simulator is not installed."""
    try:
        import arbx_pipelines.venues.sim.server  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "arbx_pipelines.cli.main", "sim", "--port", str(port)]


def _run(args: argparse.Namespace) -> int:
    """Prepare (config, migrations, DAGSTER_HOME), then become the supervisor of the simulator and dagster dev."""
    settings = load_settings(args.config, live_flag=args.live)
    loaded = settings.loaded
    upgrade(loaded.database_url)
    home = ensure_dagster_home(default_dagster_home(loaded.base_dir))
    env = dict(os.environ, DAGSTER_HOME=str(home))
    if args.config:
        env["ARBX_CONFIG"] = str(Path(args.config).resolve())
    commands: list[list[str]] = []
    cwds: list[str | None] = []
    if loaded.config.mode.value == "sim":
        command = simulator_command(loaded.config.simulator.port)
        if command is not None:
            commands.append(command)
            cwds.append(None)
            log.info("simulated venues starting", extra={"port": loaded.config.simulator.port})
    workspace = PROJECT_DIR / "workspace.yaml"
    dagster = [sys.executable, "-m", "dagster", "dev", "-h", args.host, "-p", str(args.port)]
    dagster += ["-w", str(workspace)] if workspace.exists() else ["-m", "arbx_pipelines.definitions"]
    log.info("dagster starting", extra={"url": f"http://{args.host}:{args.port}", "dagster_home": str(home)})
    commands.append(dagster)
    cwds.append(str(loaded.base_dir))
    # this process has the CLI, config, SQLAlchemy and Alembic loaded: hand over to a bare supervisor instead
    os.environ.clear()
    os.environ.update(env)
    plan = json.dumps({"commands": commands, "cwds": cwds})
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "arbx_pipelines.supervisor", plan])
