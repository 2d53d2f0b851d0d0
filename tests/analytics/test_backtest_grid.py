"""Grid search, walk-forward split and Monte Carlo bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from arbx_pipelines.core.backtest.data import Series, build_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.grid import expand_grid, run_grid, walk_forward
from arbx_pipelines.core.backtest.montecarlo import block_indices, monte_carlo
from arbx_pipelines.core.backtest.params import BacktestParams, ParamError
from tests.analytics.synthetic import ar_rates, settlements


@pytest.fixture(scope="module")
def series() -> list[Series]:
    records = []
    for i in range(3):
        rates = ar_rates(900, seed=40 + i, mean=0.0003, phi=0.92, noise=0.0003)
        records += settlements(rates, symbol=f"C{i}/USDT:USDT")
    return build_series(records)


def test_expand_grid_is_the_cartesian_product() -> None:
    grid = expand_grid({"entry_annualized": [0.3, 0.5], "exit_annualized": [0.0, 0.1, 0.2]})
    assert len(grid) == 6
    assert {"entry_annualized": 0.5, "exit_annualized": 0.2} in grid
    with pytest.raises(ParamError, match="no values"):
        expand_grid({"entry_annualized": []})


def test_grid_points_match_single_runs_in_and_out_of_worker_processes(series: list[Series]) -> None:
    grid = expand_grid({"entry_annualized": [0.3, 0.6], "exit_annualized": [0.05, 0.2]})
    base = BacktestParams()
    serial = run_grid(series, "threshold", base, grid)[0]
    parallel = run_grid(series, "threshold", base, grid, workers=2)[0]
    for point, twin in zip(serial, parallel, strict=True):
        alone = run_backtest(series, "threshold", base.with_values(**point.values)).total()
        assert point.metrics["net_pnl"] == pytest.approx(alone["net_pnl"], rel=1e-12)
        assert twin.metrics["net_pnl"] == pytest.approx(alone["net_pnl"], rel=1e-12)
    with pytest.raises(ParamError, match="exit_annualized"):
        run_grid(series, "threshold", base, [{"exit_annualized": 0.9}])


def test_walk_forward_tests_each_pick_on_the_next_unseen_window(series: list[Series]) -> None:
    grid = expand_grid({"entry_annualized": [0.3, 0.5, 0.8], "exit_annualized": [0.05, 0.2]})
    result = walk_forward(series, "threshold", BacktestParams(), grid, folds=3, objective="net_pnl")
    assert len(result.folds) == 3
    for fold in result.folds:
        assert fold.train[1] == fold.test[0]  # the test window starts where training ended
        train = run_grid(series, "threshold", BacktestParams(), grid, windows=[_epochs(fold.train)])[0]
        assert fold.train_score == max(p.metrics["net_pnl"] for p in train)
    oos = result.out_of_sample()
    assert oos["net_pnl"] == pytest.approx(sum(f.test_metrics["net_pnl"] for f in result.folds))
    anchored = walk_forward(series, "threshold", BacktestParams(), grid, folds=3, anchored=True)
    assert all(f.train[0] == anchored.folds[0].train[0] for f in anchored.folds)


def _epochs(window: tuple[str, str]) -> tuple[int, int]:
    from datetime import datetime

    return int(datetime.fromisoformat(window[0]).timestamp()), int(datetime.fromisoformat(window[1]).timestamp())


def test_monte_carlo_is_reproducible_for_a_seed(series: list[Series]) -> None:
    first = monte_carlo(series, "carry", BacktestParams(), paths=20, seed=7, block=5)
    again = monte_carlo(series, "carry", BacktestParams(), paths=20, seed=7, block=5)
    other = monte_carlo(series, "carry", BacktestParams(), paths=20, seed=8, block=5)
    assert first.samples == again.samples
    assert first.samples != other.samples
    # a carry's funding is a sum of settlements, so the bootstrap mean centres on the actual income
    actual = run_backtest(series, "carry", BacktestParams()).total()["funding_income"]
    assert np.mean(first.samples["funding_income"]) == pytest.approx(actual, rel=0.25)
    summary = first.summary()
    assert summary["net_pnl"]["p05"] <= summary["net_pnl"]["p50"] <= summary["net_pnl"]["p95"]


def test_block_indices_keep_runs_together() -> None:
    index = block_indices(100, 10, np.random.default_rng(1))
    assert index.shape == (100,)
    steps = np.diff(index.reshape(10, 10), axis=1) % 100
    assert (steps == 1).all()
