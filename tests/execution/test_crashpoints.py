"""The crash points are a contract with the sweep: every point the code passes is registered under a job, every
registered point is passed somewhere, and a point kills only when ``ARBX_CRASH_AT`` names it (and its hit)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from arbx_pipelines.execution import crashpoints
from arbx_pipelines.execution.crashpoints import ALL_POINTS, CRASH_POINTS, ENV, crash_point, parse_target, reset_hits

EXECUTION_DIR = Path(crashpoints.__file__).parent


def _points_in_code() -> set[str]:
    found: set[str] = set()
    for path in EXECUTION_DIR.glob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'crash_point\("([a-z_.]+)"\)', text))
        for prefix in re.findall(r'point="([a-z_]+)"', text):  # named_lock's f"{point}.acquired" / ".released"
            found |= {f"{prefix}.acquired", f"{prefix}.released"}
    return found


def test_every_point_in_the_code_is_registered_and_every_registered_point_is_in_the_code() -> None:
    assert _points_in_code() == ALL_POINTS
    assert set(CRASH_POINTS) == {"open", "close", "rebalance_hedge", "reduce_leverage"}
    for job, points in CRASH_POINTS.items():
        assert len(points) == len(set(points)), job


def test_parse_target() -> None:
    assert parse_target("order.create_sent") == ("order.create_sent", 1)
    assert parse_target("fills.committed#2") == ("fills.committed", 2)


def test_a_point_kills_only_on_its_named_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: kills.append((pid, sig)))
    reset_hits()
    crash_point("order.create_sent")  # no target: nothing
    monkeypatch.setenv(ENV, "order.create_sent#2")
    crash_point("order.create_answered")
    crash_point("order.create_sent")
    assert kills == []
    crash_point("order.create_sent")
    assert kills == [(os.getpid(), signal.SIGKILL)]
    reset_hits()


def test_a_recording_process_lists_the_points_it_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crashpoints, "_passed", None)  # given back after the test: recording is per process
    monkeypatch.delenv(ENV, raising=False)
    crash_point("lock.acquired")
    assert crashpoints.passed() == ()  # not recording: nothing kept
    crashpoints.record()
    for name in ("lock.acquired", "order.create_sent", "order.create_sent"):
        crash_point(name)
    assert crashpoints.passed() == ("lock.acquired", "order.create_sent", "order.create_sent")
    crashpoints.record()
    assert crashpoints.passed() == ()
