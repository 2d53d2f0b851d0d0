"""The warm run launcher (arbx_pipelines/launcher.py): each run is its own process, forked from a server that
imported the code location once; a module that fails on import does not stop runs; termination interrupts a run."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, reconstructable
from dagster._core.launcher.base import WorkerStatus

from arbx_pipelines.launcher import PID_TAG, WarmRunLauncher, run_process_alive
from tests.support.warm_jobs import process_report

PRELOAD = ["tests.support.warm_jobs", "tests.support.broken_module"]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[DagsterInstance]:
    config = {
        "run_launcher": {
            "module": "arbx_pipelines.launcher",
            "class": "WarmRunLauncher",
            "config": {"preload": PRELOAD},
        },
        "telemetry": {"enabled": False},
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


def launch(instance: DagsterInstance, out: Path, sleep_s: float = 0.0) -> DagsterRun:
    run = instance.create_run_for_job(
        process_report,
        run_config={"ops": {"report_process": {"config": {"out": str(out), "sleep_s": sleep_s}}}},
        job_code_origin=reconstructable(process_report).get_python_origin(),
    )
    return instance.launch_run(run.run_id, None)  # type: ignore[arg-type]  # this launcher needs no workspace


def wait_finished(instance: DagsterInstance, run_id: str, timeout: float = 90.0) -> DagsterRun:
    deadline = time.monotonic() + timeout
    while True:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        if run.status in FINISHED:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run.status} after {timeout} s"
        time.sleep(0.2)


def wait_started(out: Path, timeout: float = 60.0) -> None:
    """The run's op has begun once it wrote its report."""
    deadline = time.monotonic() + timeout
    while not out.exists():
        assert time.monotonic() < deadline, "the long run never started its op"
        time.sleep(0.2)


def test_runs_are_separate_forks_of_one_warm_server(instance: DagsterInstance, tmp_path: Path) -> None:
    assert isinstance(instance.run_launcher, WarmRunLauncher)
    outs = [tmp_path / f"run{i}.json" for i in range(3)]
    runs = [launch(instance, out) for out in outs]
    for run in runs:
        assert wait_finished(instance, run.run_id).status == DagsterRunStatus.SUCCESS
    reports = [json.loads(out.read_text()) for out in outs]
    pids = {r["pid"] for r in reports}
    assert len(pids) == 3 and os.getpid() not in pids  # a process of its own per run
    servers = {r["ppid"] for r in reports}
    assert len(servers) == 1  # all forked from one server ...
    assert reports[0]["imported_in"] == servers.pop()  # ... which imported the job's module once, before the forks
    for run, report in zip(runs, reports, strict=True):
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None and stored.tags[PID_TAG] == str(report["pid"])
    health = instance.run_launcher.check_run_worker_health(runs[0])
    assert health.status.value in ("SUCCESS", "RUNNING")  # RUNNING only while the process is exiting


def test_terminate_interrupts_the_run_process(instance: DagsterInstance, tmp_path: Path) -> None:
    out = tmp_path / "long.json"
    run = launch(instance, out, sleep_s=120)
    wait_started(out)
    assert instance.run_launcher.terminate(run.run_id)
    finished = wait_finished(instance, run.run_id, timeout=30)
    assert finished.status == DagsterRunStatus.CANCELED
    assert not instance.run_launcher.terminate(run.run_id)  # already finished: nothing to interrupt


def test_a_killed_run_process_fails_its_run(instance: DagsterInstance, tmp_path: Path) -> None:
    out = tmp_path / "killed.json"
    run = launch(instance, out, sleep_s=120)
    wait_started(out)
    os.kill(json.loads(out.read_text())["pid"], signal.SIGKILL)
    finished = wait_finished(instance, run.run_id, timeout=30)
    assert finished.status == DagsterRunStatus.FAILURE  # not left STARTED for ever
    messages = [e.message for e in instance.all_logs(run.run_id) if e.message]
    assert any("exited with -9" in m for m in messages), messages[-5:]


def test_a_run_of_an_earlier_daemon_is_judged_by_its_process(instance: DagsterInstance, tmp_path: Path) -> None:
    """After a daemon restart the new launcher knows the run only by its pid tag: alive while its process runs,
    failed once it is gone (run monitoring then marks the run), never a pid some other process reused."""
    out = tmp_path / "foreign.json"
    run = launch(instance, out, sleep_s=120)
    wait_started(out)
    later = WarmRunLauncher(preload=PRELOAD)  # the next daemon's launcher: it did not start this run
    later.register_instance(instance)
    stored = instance.get_run_by_id(run.run_id)
    assert stored is not None
    assert later.check_run_worker_health(stored).status == WorkerStatus.RUNNING
    reused = stored.with_tags({**stored.tags, PID_TAG: str(os.getpid())})  # a live process, not a run process
    assert later.check_run_worker_health(reused).status == WorkerStatus.FAILED
    pid = json.loads(out.read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_finished(instance, run.run_id, timeout=30)  # the first launcher saw its process die
    assert not run_process_alive(pid)
    assert later.check_run_worker_health(stored).status == WorkerStatus.FAILED
