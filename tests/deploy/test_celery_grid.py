"""Scale-out: the walk-forward grid on Dagster's Celery executor with two real workers on the local RabbitMQ
picks the same parameters as ``walk_forward`` in one process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterInvalidConfigError, execute_job, reconstructable

from arbx_pipelines.cli.backtest import load_series
from arbx_pipelines.core.backtest.grid import expand_grid, walk_forward
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.ops_deploy.celery_grid import backtest_grid_celery
from tests.deploy.conftest import BROKER

PROJECT_DIR = Path(__file__).resolve().parents[2]
FUNDING = "aha_hh_btc_eth_binance_bybit_okx/binance_export_BTCUSDT_funding_2019-09-10_2024-08-09.csv"
GRID = {"entry_annualized": [0.1, 0.6], "exit_annualized": [0.02, 0.05]}  # 4 points, 2 folds


def test_celery_grid_picks_the_same_parameters_as_one_process(
    shared_dir: Path, tmp_path: Path, celery_workers: list[str]
) -> None:
    funding = shared_dir / "data" / FUNDING
    series = load_series(funding, None, None, None, None)
    local = walk_forward(series, "threshold", BacktestParams(), expand_grid(GRID), folds=2, objective="net_pnl")

    run_config = {
        "ops": {"grid_spec": {"config": {"funding": [str(funding)], "grid": GRID, "folds": 2, "objective": "net_pnl"}}},
        "execution": {"config": {"broker": BROKER, "backend": "rpc://"}},
    }
    with (
        DagsterInstance.from_config(str(tmp_path)) as instance,
        execute_job(reconstructable(backtest_grid_celery), instance, run_config=run_config) as result,
    ):
        assert result.success
        spread = result.output_for_node("grid_walk_forward")
    assert [fold["best"] for fold in spread["folds"]] == [fold.best for fold in local.folds]
    assert len(local.folds) == 2
    assert spread["out_of_sample"]["net_pnl"] == pytest.approx(local.out_of_sample()["net_pnl"], rel=1e-12)
    pids = {worker.rsplit(":", 1)[1] for worker in spread["workers"]}
    assert pids == set(celery_workers)  # both workers ran grid points, and only they did


def test_the_example_run_config_is_valid_for_the_job() -> None:
    from dagster import validate_run_config

    config = yaml.safe_load((PROJECT_DIR / "deploy" / "backtest-grid.example.yaml").read_text())
    validated = validate_run_config(backtest_grid_celery, config)
    assert validated["ops"]["grid_spec"]["config"]["grid"] == {
        "entry_annualized": [0.1, 0.3, 0.6], "exit_annualized": [0.02, 0.05],
    }  # fmt: skip
    config["ops"]["grid_spec"]["config"]["folds"] = "four"
    with pytest.raises(DagsterInvalidConfigError):
        validate_run_config(backtest_grid_celery, config)
