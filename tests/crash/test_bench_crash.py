"""``arbx bench crash``: its figures as JSON from one fuzzer schedule, and bad arguments as one line with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    config = tmp_path / "arbx.yaml"
    config.write_text("{}\n")
    code = main(["--config", str(config), "--log-level", "ERROR", "bench", "crash", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_schedule_prints_its_figures_as_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "--no-matrix", "--schedules", "1", "--seed", "3", "--venues", "okx", "--json")
    report = json.loads(out)
    fuzzer = report["fuzzer"]
    assert (fuzzer["schedules"], fuzzer["first_seed"], fuzzer["tried"]) == (1, 3, 1)
    assert code == (0 if fuzzer["converged"] == 1 else 1)
    assert fuzzer["duplicate_orders"] + fuzzer["naked_legs"] + fuzzer["record_mismatches"] >= 1 - fuzzer["converged"]
    assert "matrix" not in report and report["venues"] == ["okx"]
    assert set(report["points_per_job"]) == {"open", "close", "rebalance_hedge", "reduce_leverage"}


def test_a_negative_schedule_count_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, tmp_path, "--schedules", "-1")
    assert code == 2 and out == ""
    assert err.strip() == "arbx: bench crash: --schedules must be 0 or more, got -1"
