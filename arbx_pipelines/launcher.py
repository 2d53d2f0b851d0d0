"""A run launcher that starts each run in a process forked from a warm server (DESIGN, "Dagster objects").

Dagster's default launcher asks the code server to spawn a fresh Python for every run, which then imports Dagster,
ccxt, SQLAlchemy and the whole code location before the first op: 5-25 s on a small machine, most of an
execution's signal-to-order time. This launcher keeps one multiprocessing *forkserver* per launching process (the
daemon) that imported the code location once; a run is a fork of it, so it starts in well under a second and each
run still has a process of its own (a crash or a hang of one run never touches another or the daemon).

The run process does what ``dagster api execute_run`` does. Termination sends it SIGINT, as Dagster's own run
workers are interrupted. The forkserver keeps the code it imported: restart the daemon after changing the code
(``dagster dev`` reloads do not reach it).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from dagster import DagsterRun
from dagster import _check as check
from dagster._core.launcher.base import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from dagster._serdes import ConfigurableClass, ConfigurableClassData, deserialize_value, serialize_value

from arbx_pipelines import warm_start
from arbx_pipelines.warm_start import PRELOAD_ENV

PID_TAG = "arbx/run_worker_pid"
DEFAULT_PRELOAD = ("arbx_pipelines.definitions",)
#: in the command line of a warm server and so of every run process forked from it
FORKSERVER_MARK = b"multiprocessing.forkserver"

_server_lock = threading.Lock()
_server_preload: tuple[str, ...] | None = None


def forkserver_context(preload: Sequence[str]) -> ForkServerContext:
    """The process-wide forkserver context, preloading ``preload`` (fixed by the first caller: one server a process).

    The server imports ``warm_start``, which imports ``preload`` and survives their errors (a module that fails on
    import would otherwise kill the server; the run process then imports it again and reports the error)."""
    global _server_preload
    context = multiprocessing.get_context("forkserver")
    with _server_lock:
        if _server_preload is None:
            os.environ[PRELOAD_ENV] = ",".join(preload)  # read by the server, which starts with this environment
            context.set_forkserver_preload([warm_start.__name__])
            _server_preload = tuple(preload)
        elif _server_preload != tuple(preload):
            raise ValueError(f"the forkserver already preloads {list(_server_preload)}, not {list(preload)}")
    return context


def run_process_alive(pid: int) -> bool:
    """A run process (of this or an earlier daemon) still runs: the pid exists and is a fork of a warm server, not a
    process that reused the pid (a dead, unreaped one has an empty command line)."""
    try:
        return FORKSERVER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def execute_run_in_worker(run_id: str, instance_ref_json: str) -> None:
    """The run process (a fork of the warm server): ``dagster api execute_run`` without the imports."""
    import sys

    from dagster._cli.api import _execute_run_command_body
    from dagster._core.instance import DagsterInstance, InstanceRef
    from dagster._utils.interrupts import capture_interrupts

    instance_ref = deserialize_value(instance_ref_json, InstanceRef)
    with capture_interrupts(), DagsterInstance.from_ref(instance_ref) as instance:
        # the launcher tags the pid too, but only after the fork returns: recorded here, a run never does anything
        # before a later daemon could judge it by its process
        instance.add_run_tags(run_id, {PID_TAG: str(os.getpid())})
        code = _execute_run_command_body(run_id, instance, lambda _event: None, set_exit_code_on_failure=False)
    sys.exit(code)


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Launch runs as forks of a warm server that imported ``preload`` once (see the module docstring)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload: Sequence[str] = DEFAULT_PRELOAD):
        self._inst_data = inst_data
        self._preload = tuple(preload)
        self._workers: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Array, Field

        return {
            "preload": Field(
                Array(str),
                is_required=False,
                default_value=list(DEFAULT_PRELOAD),
                description="modules the warm server imports once (the code location)",
            )
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> WarmRunLauncher:
        return cls(inst_data=inst_data, preload=config_value.get("preload", DEFAULT_PRELOAD))

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        check.invariant(run.job_code_origin is not None, f"run {run.run_id} has no code origin to load its job from")
        worker = forkserver_context(self._preload).Process(
            target=execute_run_in_worker,
            args=(run.run_id, serialize_value(self._instance.get_ref())),
            name=f"dagster-run-{run.run_id[:8]}",
            daemon=False,
        )
        worker.start()
        with self._lock:
            self._forget_finished()
            self._workers[run.run_id] = worker
        self._instance.add_run_tags(run.run_id, {PID_TAG: str(worker.pid)})
        threading.Thread(
            target=self._watch, args=(run.run_id, worker), name=f"watch-{run.run_id[:8]}", daemon=True
        ).start()

    def _watch(self, run_id: str, worker: BaseProcess) -> None:
        """A run process that dies before its run is finished (killed, crashed while loading) fails the run, so it
        never hangs in STARTING or STARTED."""
        worker.join()
        run = self._instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            self._instance.report_run_failed(run, f"the run process {worker.pid} exited with {worker.exitcode}")

    def _forget_finished(self) -> None:
        for run_id, worker in list(self._workers.items()):
            if worker.exitcode is not None:
                del self._workers[run_id]

    def _pid_of(self, run: DagsterRun) -> int | None:
        with self._lock:
            worker = self._workers.get(run.run_id)
            if worker is not None and worker.exitcode is None:
                return worker.pid
        tagged = run.tags.get(PID_TAG)
        return int(tagged) if tagged and tagged.isdigit() else None

    def terminate(self, run_id: str) -> bool:
        if not self.has_instance:
            return False
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        pid = self._pid_of(run)
        self._instance.report_run_canceling(run)
        if pid is None:
            self._instance.report_engine_event("No run process known to interrupt.", run, cls=self.__class__)
            return False
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            self._instance.report_engine_event(f"Run process {pid} is gone.", run, cls=self.__class__)
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        with self._lock:
            worker = self._workers.get(run.run_id)
            code = None if worker is None else worker.exitcode
        if worker is None:  # launched by an earlier daemon (restarted since): its run process may outlive it
            return self._foreign_health(run)
        if code is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        if code == 0:
            return CheckRunHealthResult(WorkerStatus.SUCCESS)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run process exited with {code}")

    def _foreign_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """Run monitoring (dagster.yaml) marks a run failed whose process is gone, e.g. killed with its daemon (systemd
        stops a unit's whole control group), instead of leaving it STARTED and holding its symbol's queue slot."""
        pid = self._pid_of(run)
        if pid is None or not Path("/proc/self").exists():
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no run process known for the run")
        if run_process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run process {pid} is gone (stopped with its daemon?)")

    def join(self, timeout: int = 30) -> None:
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.join(timeout)
