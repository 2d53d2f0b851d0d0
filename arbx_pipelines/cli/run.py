"""``arbx run``: the main job - Dagster UI and daemon on 127.0.0.1:3000 with schedules and sensors on.

In ``sim`` mode the simulated venues are started first on loopback, so nothing outside this machine is needed. Dagster
runs as in production (deploy/systemd), not as ``dagster dev``: one gRPC code server (``dagster api grpc``, the code
location ``arbx``, on a free loopback port), then the webserver and the daemon, both loading the code from it through
a generated workspace file in DAGSTER_HOME (``dagster dev`` adds a process of its own and a code-server proxy, about
170 MB, for reloads arbx does not use). A funding snapshot is taken at the start (not at the first 10-minute tick).
Every process is supervised as one (:mod:`arbx_pipelines.supervisor`): SIGTERM, SIGINT or SIGHUP stops them all
within 10 s. The console shows the UI address, then one line per hedge opened or closed and per alert. While
``spread`` is active the spot engine (``arbx engine``) runs beside them, restarted with backoff if it exits, stopped
first.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import yaml

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.cli.run_console import ActivityFeed, ConsoleLineFilter, problems_only
from arbx_pipelines.config.guard import config_in_force
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.startup import (
    LIVE_START_ENV,
    check_data_dir,
    grant_live_start,
    load_settings,
    revoke_live_start,
)
from arbx_pipelines.engine.supervisor import EngineSupervisor
from arbx_pipelines.instance import default_dagster_home, ensure_dagster_home
from arbx_pipelines.logs import add_file_log, get_logger
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.supervisor import RUN_STATE_FILE, ChildSpec, StopRequested, Supervisor, become_subreaper

if TYPE_CHECKING:
    from arbx_pipelines.rpc.runtime import OpsService

log = get_logger("arbx.run")
SIM_READY_SECONDS = 30.0
#: how often the console feed and the engine's keeper look (a stop signal wakes the loop at once)
TICK_SECONDS = 2.0
#: the notification loops' share of the 10 s stop (they stop while the children do)
OPS_STOP_SECONDS = 4.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = sub.add_parser("run", help="start the Dagster UI + daemon (schedules and sensors on)")
    run.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--live", action="store_true", help="the live-trading opt-in for this start")
    run.add_argument("--reset-sim", action="store_true", help="sim mode: start the simulated venues on a fresh world")
    run.set_defaults(handler=_run)


def simulator_command(port: int, reset: bool = False) -> list[str] | None:
    """The command that starts the simulated venues (continuing their saved world unless ``reset``), or None while
    the simulator is not installed."""
    # looked for, not imported (nor its package, which imports ccxt): its imports are its own process's
    if not (Path(__file__).resolve().parents[1] / "venues" / "sim" / "server.py").is_file():
        return None
    command = [sys.executable, "-m", "arbx_pipelines.cli.main", "sim", "--port", str(port)]
    return [*command, "--reset"] if reset else command


#: the generated workspace (in DAGSTER_HOME): the webserver and the daemon load the code from the gRPC code server
WORKSPACE_FILE = "arbx-run-workspace.yaml"
LOCATION_NAME = "arbx"
#: the code server listens once the code location is loaded (seconds on a loaded 1-CPU machine)
CODE_SERVER_READY_SECONDS = 300.0
#: the Dagster processes stop at the same time (:class:`ChildSpec`)
DAGSTER = "dagster"
LOG_LEVEL = ["--log-level", "warning"]  # the daemon's per-tick INFO lines are not for the console


def code_server_command(socket_path: Path) -> list[str]:
    """The code location ``arbx`` served over gRPC (as deploy/systemd/arbx-grpc.service), on a Unix socket: no port
    to pick, none to collide with another start or a test's."""
    return [sys.executable, "-m", "dagster", "api", "grpc", "-m", "arbx_pipelines.definitions",
            "--socket", str(socket_path), "--location-name", LOCATION_NAME, *LOG_LEVEL]  # fmt: skip


def code_server_socket() -> Path:
    """A fresh private folder for the code server's socket (a short path: a Unix socket's is at most 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix="arbx-run-")) / "code.sock"


def write_workspace(home: Path, socket_path: Path) -> Path:
    """The workspace file that points the webserver and the daemon at the code server."""
    workspace = home / WORKSPACE_FILE
    grpc = {"socket": str(socket_path), "location_name": LOCATION_NAME}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": grpc}]}, sort_keys=False), encoding="utf-8")
    return workspace


def webserver_command(host: str, port: int, workspace: Path) -> list[str]:
    return [sys.executable, "-m", "dagster_webserver", "-h", host, "-p", str(port), "-w", str(workspace),
            "--dagster-log-level", "warning", *LOG_LEVEL]  # fmt: skip


def daemon_command(workspace: Path) -> list[str]:
    return [sys.executable, "-m", "dagster._daemon", "run", "-w", str(workspace), *LOG_LEVEL]


def snapshot_command() -> list[str]:
    """One funding_snapshot run in the project's instance (it shows in the UI like a scheduled one)."""
    return [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "arbx_pipelines.definitions",
            "--select", "funding_snapshot"]  # fmt: skip


def service_children(loaded: LoadedConfig, args: argparse.Namespace, home: Path, code_socket: Path) -> list[ChildSpec]:
    """The long-running processes of a start, in start order (stopped in reverse). Another service (e.g. a chat
    poller in a process of its own) is one more entry here."""
    children: list[ChildSpec] = []
    if loaded.config.mode.value == "sim":
        command = simulator_command(loaded.config.simulator.port, reset=args.reset_sim)
        if command is not None:
            children.append(ChildSpec("simulator", command, show=problems_only))
    workspace = home / WORKSPACE_FILE
    cwd = str(loaded.base_dir)
    children += [
        ChildSpec("code server", code_server_command(code_socket), ConsoleLineFilter(), cwd, stop_weight=2.0,
                  stop_together=DAGSTER),
        ChildSpec("webserver", webserver_command(args.host, args.port, workspace), ConsoleLineFilter(), cwd,
                  stop_weight=1.0, stop_together=DAGSTER),
        ChildSpec("daemon", daemon_command(workspace), ConsoleLineFilter(), cwd, stop_weight=2.0,
                  stop_together=DAGSTER),
    ]  # fmt: skip
    return children


def prepare_instance(home: Path) -> None:
    """Create the Dagster instance's storage once, before the UI, the daemon and the first snapshot all open it at
    the same moment (concurrent first migrations of its SQLite storage collide). In a short-lived process: Dagster's
    import is 100 MB that ``arbx run`` would otherwise keep for its whole life."""
    code = "import sys; from dagster import DagsterInstance; DagsterInstance.from_config(sys.argv[1]).dispose()"
    done = subprocess.run([sys.executable, "-c", code, str(home)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CliError(f"cannot prepare the Dagster instance in {home}: {done.stderr.strip()[-2000:]}")


def _wait_for_socket(path: Path, seconds: float, process: subprocess.Popen[str]) -> bool:
    """Whether the Unix socket at ``path`` accepts a connection within ``seconds`` (False once ``process`` exits)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and process.poll() is None:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return True
            except OSError:
                pass
        time.sleep(0.2)
    return False


def _wait_for_port(host: str, port: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def child_env(loaded: LoadedConfig, args: argparse.Namespace, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ARBX_LIVE", LIVE_START_ENV)}
    env["DAGSTER_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    if args.config:
        env["ARBX_CONFIG"] = str(Path(args.config).resolve())
    if args.live:
        env[LIVE_START_ENV] = grant_live_start(loaded)
    return env


def _echo(line: str) -> None:
    print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, live_flag=args.live)
    loaded = settings.loaded
    check_data_dir(loaded)
    add_file_log(loaded.data_dir / "logs")  # by hand: a size-rotated file; under systemd journald keeps the lines
    upgrade(loaded.database_url)
    config_in_force(args.config)  # this start's configuration is the last good one from now on
    os.umask(0o077)  # everything the processes of this start write is the owner's alone
    become_subreaper()
    home = ensure_dagster_home(default_dagster_home(loaded.base_dir))
    prepare_instance(home)
    supervisor = Supervisor(
        loaded.data_dir / RUN_STATE_FILE, child_env(loaded, args, home), _echo, owns_all_descendants=True
    )
    try:
        killed = supervisor.clear_leftovers()
    except RuntimeError as exc:
        raise CliError(str(exc)) from exc
    if killed:
        _echo(f"arbx: stopped {len(killed)} process group(s) a previous start left running")
    engine = make_engine(loaded.database_url)
    code_socket = code_server_socket()
    reason = "startup failed"
    ops: OpsService | None = None
    try:
        supervisor.install_signal_handlers()
        if args.log_level is None:  # from here the console is the feed's lines; log records only for errors
            _quiet_console()
        feed = ActivityFeed(engine, _echo, datetime.now(UTC))
        _start(supervisor, loaded, args, home, code_socket)
        from arbx_pipelines.rpc.runtime import start_ops_service  # notifications and Telegram control, in threads

        ops = start_ops_service(args.config, f"http://{args.host}:{args.port}", home)
        from arbx_pipelines.ops_deploy.metrics import start_configured_metrics  # Prometheus, when metrics.port is set

        start_configured_metrics(loaded)
        engine_keeper = spot_engine(supervisor, loaded, args)

        def tick() -> None:
            feed.poll()
            if engine_keeper is not None:
                engine_keeper.poll()

        reason = supervisor.wait(tick=tick, interval=TICK_SECONDS)
    except StopRequested as stop:
        reason = f"received {stop} while starting"
    finally:
        ops_stopping = _stop_ops_service(ops)
        survivors = supervisor.stop()
        shutil.rmtree(code_socket.parent, ignore_errors=True)
        if ops_stopping is not None:
            ops_stopping.join(timeout=OPS_STOP_SECONDS)
        if args.live:
            revoke_live_start(loaded)
        engine.dispose()
        _echo(f"arbx: stopped ({reason})" + (f"; still running: {survivors}" if survivors else ""))
    _exit_now(0 if reason.startswith("received") else 1)


def spot_engine(supervisor: Supervisor, loaded: LoadedConfig, args: argparse.Namespace) -> EngineSupervisor | None:
    """The spot engine while ``spread`` is active: kept running with backoff (:class:`EngineSupervisor`), each of
    its processes one of this start's supervised children (stopped first, recorded for the next start)."""
    if not loaded.config.spread.active(loaded.config.mode):
        return None
    command = [sys.executable, "-m", "arbx_pipelines.cli.main", "--log-level", "WARNING", "engine"]
    command += ["--live"] if args.live else []

    def start(engine_command: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        spec = ChildSpec("spot engine", engine_command, ConsoleLineFilter(), oneshot=True)  # it ends: restarted
        return cast("subprocess.Popen[bytes]", supervisor.start(spec))  # its output is read by the supervisor

    keeper = EngineSupervisor(command, {}, popen=start)
    keeper.poll()
    return keeper


def _quiet_console() -> None:
    """Console log records only for errors (the log file, when there is one, keeps every level)."""
    for handler in logging.getLogger("arbx").handlers:
        if getattr(handler, "_arbx", False):
            handler.setLevel(logging.ERROR)


def _stop_ops_service(ops: OpsService | None) -> threading.Thread | None:
    """Stop the notification and Telegram loops (and send the stop notification) while the children stop."""
    if ops is None:
        return None
    atexit.unregister(ops.stop)  # stopped here, once, within the stop budget
    stopping = threading.Thread(target=ops.stop, kwargs={"timeout": OPS_STOP_SECONDS}, name="ops-stop", daemon=True)
    stopping.start()
    return stopping


def _exit_now(code: int) -> NoReturn:
    """Exit without tearing the interpreter down: every child is gone and the output is flushed, and the teardown
    of everything imported takes seconds on a loaded machine, which a stop within 10 s cannot spare."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _start(
    supervisor: Supervisor, loaded: LoadedConfig, args: argparse.Namespace, home: Path, code_socket: Path
) -> None:
    """Start the services and the first snapshot (a stop signal meanwhile raises :class:`StopRequested`): the
    webserver and the daemon once the code server listens (before, the daemon's sensors would wait for its next
    workspace refresh, 60 s)."""
    write_workspace(home, code_socket)
    for spec in service_children(loaded, args, home, code_socket):
        process = supervisor.start(spec)
        if spec.name == "simulator" and not _wait_for_port(
            loaded.config.simulator.host, loaded.config.simulator.port, SIM_READY_SECONDS
        ):
            raise CliError(f"the simulated venues did not listen on port {loaded.config.simulator.port} in time")
        if spec.name == "code server":
            supervisor.start(
                ChildSpec("funding_snapshot", snapshot_command(), ConsoleLineFilter(), str(loaded.base_dir),
                          oneshot=True, stop_together=DAGSTER)
            )  # fmt: skip
            if not _wait_for_socket(code_socket, CODE_SERVER_READY_SECONDS, process):
                raise CliError(f"the Dagster code server did not listen on {code_socket} (exit code {process.poll()})")
    _echo(f"arbx: UI at http://{args.host}:{args.port} (mode {loaded.config.mode.value}); "
          f"stop with Ctrl-C or kill -TERM {os.getpid()}")  # fmt: skip
