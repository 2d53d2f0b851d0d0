"""The production topology for tests: the Dagster gRPC code server, daemon and webserver as separate processes,
started from the systemd units' own command lines (deploy/systemd), with the repository's ``dagster.yaml`` on a
PostgreSQL database and arbx on the ``prod`` overlay (arbx.prod.yaml: PostgreSQL and Redis, JSON logs)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunRecord

from tests.support.dagster_ui import free_port

PROJECT = Path(__file__).resolve().parents[2]
UNITS = PROJECT / "deploy" / "systemd"
OPT = "/opt/arbx"
LOCATION = {"repositoryLocationName": "arbx", "repositoryName": "__repository__"}
READY_S = 120.0


def unit_command(unit: str, replace: Mapping[str, str]) -> list[str]:
    """The unit's ``ExecStart`` (after its ``ExecStartPre``, as systemd runs them) with this checkout's virtualenv and
    the strings in ``replace`` (paths, ports) swapped."""
    lines = [ln for ln in (UNITS / unit).read_text().splitlines() if ln.startswith(("ExecStartPre=", "ExecStart="))]
    swaps = {f"{OPT}/.venv/bin/": f"{Path(sys.executable).parent}/", **replace}
    # one pass, whole numbers only: a swapped-in port or path is never swapped again
    pattern = re.compile("|".join(rf"(?<!\d){re.escape(old)}(?!\d)" for old in swaps))
    commands = [shlex.split(pattern.sub(lambda m: swaps[m.group(0)], ln.split("=", 1)[1])) for ln in lines]
    *pre, main = commands
    if not pre:
        return main
    return ["/bin/bash", "-c", " && ".join([*(shlex.join(c) for c in pre), f"exec {shlex.join(main)}"])]


@dataclass
class Service:
    """One unit's process, in a process group of its own (its children, e.g. the daemon's run workers, too)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.with_suffix(f".{self.starts}.log").open("wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.with_suffix(f".{self.starts}.log").read_text(errors="replace")[-3000:]

    def kill(self, sig: signal.Signals = signal.SIGKILL, timeout: float = 30) -> None:
        """Signal the whole group (as systemd signals the unit's control group), then wait until it is gone."""
        process = self.process
        if process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        deadline = time.monotonic() + timeout
        while True:  # children of the group (forkserver, run workers) may outlive the leader by a moment
            try:
                os.killpg(process.pid, signal.SIGKILL if time.monotonic() > deadline else 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.process = None


@dataclass
class ProdStack:
    home: Path
    url: str
    #: DAGSTER_PG_* as the services have them: dagster.yaml reads them when an instance is made
    pg_env: dict[str, str]
    services: dict[str, Service] = field(default_factory=dict)

    def instance(self) -> DagsterInstance:
        """The services' instance, from their DAGSTER_HOME (this process's environment is left as it was)."""
        saved = {name: os.environ.get(name) for name in self.pg_env}
        os.environ.update(self.pg_env)
        try:
            return DagsterInstance.from_config(str(self.home))
        finally:
            for name, value in saved.items():
                if value is None:
                    del os.environ[name]
                else:
                    os.environ[name] = value

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:  # GraphQL's own errors come with a 500: show them
            payload = json.loads(exc.read() or b"{}") or {"errors": [str(exc)]}
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return dict(payload["data"])

    def launch(self, job: str, run_config: Mapping[str, Any] | None = None) -> str:
        """Launch ``job`` through the webserver, as the UI's launch button does; returns the run id."""
        mutation = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message stack } } }"""
        params = {"selector": {**LOCATION, "jobName": job}, "runConfigData": dict(run_config or {})}
        answer = self.graphql(mutation, {"params": params})["launchRun"]
        assert answer["__typename"] == "LaunchRunSuccess", answer
        return str(answer["run"]["runId"])

    def alive(self) -> None:
        for service in self.services.values():
            service.alive()

    def wait(self, what: str, check: Any, timeout: float = READY_S) -> Any:
        """Poll ``check`` (every 0.25 s) until it returns something truthy; the services must stay up meanwhile."""
        deadline = time.monotonic() + timeout
        while not (found := check()):
            self.alive()
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {s.name}\n{s.tail()}" for s in self.services.values())
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.25)
        return found

    def finished_run(self, run_id: str, timeout: float = READY_S) -> RunRecord:
        with self.instance() as instance:

            def done() -> RunRecord | None:
                record = instance.get_run_record_by_id(run_id)
                return record if record is not None and record.dagster_run.is_finished else None

            found: RunRecord = self.wait(f"run {run_id} to finish", done, timeout)
            return found

    def daemon_ready(self, after: float) -> None:
        """Every daemon the instance needs has sent a heartbeat since ``after`` (a time.time())."""
        with self.instance() as instance:
            required = set(instance.get_required_daemon_types())

            def beating() -> bool:
                beats = instance.get_daemon_heartbeats()
                return all(kind in beats and beats[kind].timestamp > after for kind in required)

            self.wait("the daemon's heartbeats", beating)

    def location_loaded(self) -> bool:
        query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
        try:
            entries = self.graphql(query)["workspaceOrError"]["locationEntries"]
        except (urllib.error.URLError, OSError):
            return False
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    def statuses(self) -> dict[str, DagsterRunStatus]:
        with self.instance() as instance:
            return {run.run_id: run.status for run in instance.get_runs()}


def write_config(workdir: Path, sim_port: int, settings: Mapping[str, Any]) -> Path:
    """``arbx.yaml`` for the simulator beside a copy of the repository's ``arbx.prod.yaml`` overlay."""
    data = {"mode": "sim", "data_dir": str(workdir / "data"), "simulator": {"port": sim_port}, **settings}
    path = workdir / "arbx.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    shutil.copy(PROJECT / "arbx.prod.yaml", workdir / "arbx.prod.yaml")
    return path


@contextmanager
def prod_stack(workdir: Path, config: Path, dagster_db: str, env: Mapping[str, str]) -> Iterator[ProdStack]:
    """gRPC code server, then daemon and webserver (as the units order them), on ``dagster.yaml`` copied verbatim
    into a fresh DAGSTER_HOME whose storage is the PostgreSQL database ``dagster_db``; ``env`` adds the arbx
    settings (ARBX_DATABASE_URL, ARBX_REDIS_URL, as the units' environment file does). Every process is stopped
    on the way out, also on failure."""
    home = workdir / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    grpc_port, web_port = free_port(), free_port()
    workspace = yaml.safe_load((PROJECT / "deploy" / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"]["port"] = grpc_port
    (workdir / "workspace.yaml").write_text(yaml.safe_dump(workspace), encoding="utf-8")
    replace = {f"{OPT}/deploy/workspace.yaml": str(workdir / "workspace.yaml"), "4266": str(grpc_port)}
    replace["3000"] = str(web_port)
    pg_env = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "postgres",
              "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": dagster_db}  # fmt: skip
    service_env = {**os.environ, **env, **pg_env, "ARBX_ENV": "prod", "ARBX_CONFIG": str(config)}
    service_env.update(DAGSTER_HOME=str(home), PYTHONPATH=str(PROJECT))
    stack = ProdStack(home, f"http://127.0.0.1:{web_port}", pg_env)
    for name, unit in (("grpc", "arbx-grpc"), ("daemon", "arbx-daemon"), ("webserver", "arbx-webserver")):
        command = unit_command(f"{unit}.service", replace)
        stack.services[name] = Service(name, command, service_env, workdir / f"{name}.log")
    with ExitStack() as stop:
        for service in reversed(stack.services.values()):
            stop.callback(service.kill, signal.SIGTERM)
        started = time.time()
        for service in stack.services.values():  # at once, as systemd starts arbx.target: the units order them
            service.start()
        stack.wait("the gRPC code server", lambda: _grpc_serving(grpc_port))
        stack.wait("the webserver to load the code location", stack.location_loaded)
        stack.daemon_ready(started)
        yield stack


def _grpc_serving(port: int) -> bool:
    from dagster._grpc.client import DagsterGrpcClient

    try:
        DagsterGrpcClient(port=port, host="127.0.0.1").ping("ready?")
    except Exception:  # not listening yet
        return False
    return True
