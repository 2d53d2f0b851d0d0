"""Scale-out on Dagster's Celery executor with two real workers on the local RabbitMQ: the walk-forward grid picks
the same parameters as ``walk_forward`` in one process, and a funding_history backfill writes the same rows as the
same backfill in one process. One file, so the tests never share the ``dagster`` queue at the same time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterInvalidConfigError,
    execute_job,
    materialize,
    reconstructable,
)
from sqlalchemy import select

from arbx_pipelines.assets.funding_history import FUNDING_HISTORY_CHECKS, funding_history
from arbx_pipelines.cli.backtest import load_series
from arbx_pipelines.config.loader import ENV_OVERRIDES, load_config
from arbx_pipelines.core.backtest.grid import expand_grid, walk_forward
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.definitions import build_resources
from arbx_pipelines.marketdata.backfill import RANGE_END_TAG, RANGE_START_TAG
from arbx_pipelines.ops_deploy import celery_backfill
from arbx_pipelines.ops_deploy.celery_grid import backtest_grid_celery
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import FundingRateRow
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.simulator import available_venue_modules
from tests.deploy.conftest import BROKER
from tests.support.sim import sim_settings

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


#: one partition (a day of Binance) before the simulator's fixed market start (2025-08-01 03:00 UTC)
RANGE = {RANGE_START_TAG: "2025-07-30|binance", RANGE_END_TAG: "2025-07-30|binance"}


@pytest.fixture(scope="module")
def history_sim() -> Iterator[SimServer]:
    with SimServer(sim_settings()) as server:
        yield server


def write_config(directory: Path, sim: SimServer) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    venues = sorted(available_venue_modules())
    enabled = "\n".join(f"  {v}: {{enabled: {str(v in venues).lower()}}}" for v in ("binance", "okx", "bitget"))
    path = directory / "arbx.yaml"
    path.write_text(f"data_dir: {directory}\nsimulator:\n  port: {sim.port}\nvenues:\n{enabled}\n", encoding="utf-8")
    upgrade(load_config(path, env={}).database_url)
    return path


def isolated_env(config: Path) -> dict[str, str]:
    """Only ``config`` decides: the shell's ARBX_* overrides (database, mode, environment) are blanked."""
    return {**dict.fromkeys([*ENV_OVERRIDES, "ARBX_ENV"], ""), "ARBX_CONFIG": str(config)}


@pytest.fixture
def celery_worker_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """For the backfill the workers read the arbx config of the Celery side, as the code location does."""
    if "history_sim" not in request.fixturenames:
        return {}
    return isolated_env(write_config(tmp_path / "celery", request.getfixturevalue("history_sim")))


@pytest.fixture
def launcher_env(celery_worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The launching process reads the same config; the job's definitions are built again for the next test."""
    for name, value in celery_worker_env.items():
        monkeypatch.setenv(name, value)
    celery_backfill.definitions.cache_clear()
    yield
    celery_backfill.definitions.cache_clear()


def rows(config: Path) -> list[tuple[Any, ...]]:
    engine = make_engine(load_config(config, env={}).database_url)
    with transaction(engine) as session:
        found = session.execute(
            select(FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.rate)
        ).all()
    engine.dispose()
    return sorted(tuple(row) for row in found)


def test_celery_backfill_writes_the_same_rows_as_one_process(
    tmp_path: Path, history_sim: SimServer, celery_workers: list[str], launcher_env: None
) -> None:
    local = write_config(tmp_path / "local", history_sim)
    loaded = load_config(local, env={})
    resources = build_resources(loaded, str(local), sim_url=history_sim.base_url, rate_limit_ms=5)
    in_process = materialize(
        [funding_history, *FUNDING_HISTORY_CHECKS], resources=resources, tags=RANGE,
        instance=DagsterInstance.ephemeral(),
    )  # fmt: skip
    assert in_process.success
    local_checks = {c.check_name: c.passed for c in in_process.get_asset_check_evaluations()}

    run_config = {"execution": {"config": {"broker": BROKER, "backend": "rpc://"}}}
    job = reconstructable(celery_backfill.funding_history_celery_job)
    with (
        DagsterInstance.from_config(str(tmp_path)) as instance,
        execute_job(job, instance, run_config=run_config, tags=RANGE) as result,
    ):
        assert result.success
        checks = result.get_asset_check_evaluations()
        starts = instance.all_logs(result.run_id, of_type=DagsterEventType.STEP_START)
    assert {c.check_name for c in checks} == {spec.name for d in FUNDING_HISTORY_CHECKS for spec in d.check_specs}
    assert {c.check_name: c.passed for c in checks} == local_checks
    assert local_checks["funding_history_gaps"] and local_checks["funding_history_duplicates"]
    step_pids = {entry.step_key: entry.dagster_event.pid for entry in starts if entry.dagster_event is not None}
    assert "funding_history" in step_pids
    assert {str(pid) for pid in step_pids.values()} <= set(celery_workers)  # every step ran on a worker
    assert os.getpid() not in step_pids.values()

    celery_rows = rows(tmp_path / "celery" / "arbx.yaml")
    assert celery_rows == rows(local)
    assert {row[0] for row in celery_rows} == {"binance"}
    assert len(celery_rows) >= 3 * 50  # >= 50 perpetuals, settlements every 8 h or less
