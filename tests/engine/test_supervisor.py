"""The engine supervisor: restart after an exit with exponential backoff, reset after a healthy run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arbx_pipelines.engine.supervisor import EngineSupervisor, next_delay

pytestmark = pytest.mark.isolated  # signals and child processes: alone in a fresh process


def test_backoff_doubles_while_starts_fail_and_resets_after_a_healthy_run() -> None:
    assert next_delay(0.0, 0.5) == 1.0
    assert next_delay(1.0, 0.5) == 2.0
    assert next_delay(32.0, 0.5) == 60.0
    assert next_delay(60.0, 0.5) == 60.0
    assert next_delay(16.0, 120.0) == 1.0


def test_an_exiting_engine_is_restarted_when_its_backoff_is_due() -> None:
    now = [100.0]
    supervisor = EngineSupervisor([sys.executable, "-c", "raise SystemExit(3)"], {}, clock=lambda: now[0])
    supervisor.poll()
    first = supervisor.process
    assert first is not None
    first.wait(timeout=30)
    supervisor.poll()  # notices the exit: next start in 1 s
    assert supervisor.process is None and supervisor.restarts == 1 and supervisor.next_start == 101.0
    now[0] = 101.0
    supervisor.poll()
    assert supervisor.process is not None and supervisor.process is not first
    supervisor.process.wait(timeout=30)
    now[0] = 101.5
    supervisor.poll()
    assert supervisor.delay_s == 2.0 and supervisor.next_start == 103.5
    supervisor.stop()


def test_stop_terminates_a_running_engine() -> None:
    supervisor = EngineSupervisor([sys.executable, "-c", "import time; time.sleep(60)"], {})
    supervisor.poll()
    process = supervisor.process
    assert process is not None
    supervisor.stop(timeout_s=10)
    assert process.poll() is not None and process.returncode != 0
    assert isinstance(process, subprocess.Popen)
