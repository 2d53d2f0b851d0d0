"""`arbx bench execution` end to end: the in-process measurement and the one through a real `dagster dev` (sensor,
run queue, warm run launcher, run process, both legs). It checks what the bench reports, not how fast: timings are
the bench's figures, never a test's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def figure(pattern: str, text: str) -> list[str]:
    found = re.findall(pattern, text)
    assert found, f"{pattern!r} not in the bench output:\n{text}"
    return found


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bench_execution_through_dagster_dev(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "arbx_pipelines.cli.main", "bench", "execution"]
    args = ["--symbols", "6", "--rounds", "1", "--daemon-single", "3", "--daemon-rounds", "1", "--timeout", "180"]
    done = subprocess.run([*command, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    out = done.stdout
    assert done.returncode == 0, (out + done.stderr)[-4000:]
    measured = figure(r"(\d+)/(\d+) executions measured", out)
    # in process, one at a time, all at once: none lost (the simulated market is the same on every run, so no price
    # wanders into the anomaly screen)
    assert measured == [("6", "6"), ("3", "3"), ("6", "6")]
    assert "warning:" not in out
    assert len(figure(r"signal -> both legs acknowledged: p50 [\d.]+ s, p95 [\d.]+ s", out)) == 3
    for stage in ("signal -> run queued", "queued -> launched", "launched -> started", "started -> both acks"):
        assert len(figure(rf"{re.escape(stage)}\s+median", out)) == 2  # both daemon measurements split in stages
    pending = [int(n) for n in figure(r"orders pending per venue at once: max (\d+) \(limit 3\)", out)]
    assert len(pending) == 3 and max(pending) <= 3 and pending[0] >= 2
    at_once = [int(n) for n in figure(r"executions sending at once \(intent .. both legs answered\): max (\d+)", out)]
    assert at_once[0] >= 2  # in process: several hedges in flight together, the venue slots still capping orders
    assert "goal p95 <= 10 s" in out
