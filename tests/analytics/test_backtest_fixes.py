"""The four small defects of issue 12, each pinned: grid values validated together with --param, the time-weighted
mean rate, interval_hours written as 8.0, and a walk-forward fold with no trades in training."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.core.backtest.data import build_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.grid import walk_forward
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.history.formats import HistoryFormatError, read_funding
from tests.analytics.synthetic import START, settlements


def _funding_csv(path: Path, rates: list[float], interval: str = "8") -> Path:
    lines = ["venue,symbol,funding_time,rate,interval_hours"]
    for i, rate in enumerate(rates):
        lines.append(f"binance,BTC/USDT:USDT,{(START + timedelta(hours=8 * i)).isoformat()},{rate},{interval}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grid_values_below_the_default_exit_pass_with_a_lower_exit_param(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    funding = _funding_csv(tmp_path / "f.csv", [0.0001, 0.0002, 0.00005, 0.0003] * 30)
    out = tmp_path / "out.json"
    argv = ["backtest", "--funding", str(funding), "--strategy", "threshold", "--folds", "2"]
    ok = [*argv, "--param", "exit_annualized=0", "--grid", "entry_annualized=0.05,0.1", "--json", str(out)]
    assert main(ok) == 0
    assert "walk_forward" in json.loads(out.read_text())
    # without the lower exit the combination itself is invalid, and the grid point is named
    assert main([*argv, "--grid", "entry_annualized=0.05,0.1", "--json", str(out)]) == 2
    assert "--grid point entry_annualized=0.05" in capsys.readouterr().err


def test_mean_annualized_rate_is_time_weighted_over_mixed_intervals() -> None:
    eight = settlements([0.0001] * 10)  # 80 hours at 10.95 % a year
    four = settlements([0.0001] * 10, hours=4, start=START + timedelta(hours=80))  # 40 hours at 21.9 %
    records = eight + four
    result = run_backtest(build_series(records), "carry", BacktestParams())
    expected = (0.0001 * 1095 * 80 + 0.0001 * 2190 * 40) / 120
    assert result.total()["mean_annualized_rate"] == pytest.approx(expected, rel=1e-12)


def test_the_importer_takes_interval_hours_written_as_a_float(tmp_path: Path) -> None:
    records = read_funding(_funding_csv(tmp_path / "f.csv", [0.0001, 0.0002], interval="8.0"))
    assert [r.interval_hours for r in records] == [8, 8]
    with pytest.raises(HistoryFormatError, match=r"interval_hours '8\.5'"):
        read_funding(_funding_csv(tmp_path / "g.csv", [0.0001], interval="8.5"))


def test_a_fold_without_trades_in_training_is_skipped_with_its_reason() -> None:
    quiet = [0.0001] * 90  # 11 % a year: below every entry threshold of the grid
    hot = [0.002] * 90
    series = build_series(settlements(quiet + hot + hot))
    grid = [{"entry_annualized": 0.5}, {"entry_annualized": 0.8}]
    result = walk_forward(series, "threshold", BacktestParams(forecast=False), grid, folds=2)
    assert len(result.skipped) == 1 and "no grid point traded" in result.skipped[0]["reason"]
    assert len(result.folds) == 1  # the fold trained on the hot window is tested
    assert result.to_dict()["skipped"] == result.skipped


def test_walk_forward_prints_carry_against_threshold_per_unseen_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hot = [0.0001] * 20 + [0.002] * 25
    funding = _funding_csv(tmp_path / "f.csv", hot * 6)
    out = tmp_path / "wf.json"
    argv = ["backtest", "--walk-forward", "--funding", str(funding), "--folds", "3", "--json", str(out)]
    assert main([*argv, "--grid", "entry_annualized=0.3,0.6", "--param", "forecast=false"]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert {row["strategy"] for row in data["rows"]} == {"carry", "threshold"}
    assert len(data["rows"]) == 2 * 3 and not data["skipped"]
    for row in data["rows"]:
        assert f"{row['fold']:>4}  {row['test']}" in printed
        assert set(row) >= {"annualized_return", "sharpe", "max_drawdown", "round_trips"}
    assert main([*argv, "--strategy", "carry"]) == 2
