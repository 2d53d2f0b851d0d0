"""A walk-forward backtest grid as a Dagster job whose grid points run as separate steps, so Dagster's Celery
executor (``dagster-celery``) can spread them over workers on several machines.

The grid points are the same ``run_grid`` calls and the folds are scored by the same ``score_folds`` as
``arbx backtest --grid`` in one process, so both pick the same parameters. Workers import this module:

    DAGSTER_CELERY_BROKER_HOST=rabbit celery -A dagster_celery.app worker -Q dagster --pool=solo
    dagster job launch -m arbx_pipelines.ops_deploy.celery_grid -j backtest_grid_celery -c grid.yaml
"""

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import Config, DynamicOut, DynamicOutput, Out, job, op
from dagster_celery import celery_executor
from pydantic import Field

from arbx_pipelines.core.backtest.data import Series
from arbx_pipelines.core.backtest.grid import GridPoint, Window, expand_grid, run_grid, score_folds, walk_forward_splits
from arbx_pipelines.core.backtest.params import BacktestParams


class GridConfig(Config):
    """What ``arbx backtest --funding F --strategy S --grid k=v1,v2 --folds N --objective O`` takes."""

    funding: list[str]
    strategy: str = "threshold"
    symbols: list[str] = Field(default_factory=list)
    grid: dict[str, list[float]]
    folds: int = 4
    objective: str = "sharpe"
    capital: float = 500.0


@dataclass(frozen=True)
class GridSpec:
    series: list[Series]
    strategy: str
    base: BacktestParams
    grid: list[dict[str, Any]]
    splits: list[tuple[Window, Window]]
    objective: str


@dataclass(frozen=True)
class PointResult:
    point: int
    metrics: list[dict[str, Any]]  # per training window, in fold order
    worker: str  # host:pid of the process that ran it


@op(out=Out(GridSpec))
def grid_spec(config: GridConfig) -> GridSpec:
    """Read the history once; every grid point step receives it through the run's IO manager."""
    from arbx_pipelines.cli.backtest import load_series

    series = load_series([Path(path) for path in config.funding], None, config.symbols or None, None, None)
    return GridSpec(
        series=series,
        strategy=config.strategy,
        base=BacktestParams().with_values(capital=config.capital),
        grid=expand_grid(config.grid),
        splits=walk_forward_splits(series, config.folds),
        objective=config.objective,
    )


@op(out=DynamicOut(int))
def grid_points(spec: GridSpec) -> Any:
    """One step per grid point (it runs on every training window): the unit a worker takes."""
    for point in range(len(spec.grid)):
        yield DynamicOutput(point, mapping_key=f"point{point}")


@op(out=Out(PointResult))
def grid_point(spec: GridSpec, point: int) -> PointResult:
    windows = [train for train, _ in spec.splits]
    per_window = run_grid(spec.series, spec.strategy, spec.base, [spec.grid[point]], windows=windows)
    metrics = [only.metrics for (only,) in per_window]
    return PointResult(point, metrics, f"{socket.gethostname()}:{os.getpid()}")


@op
def grid_walk_forward(spec: GridSpec, points: list[PointResult]) -> dict[str, Any]:
    """The folds scored as in one process; ``workers`` names the processes that ran the grid points."""
    trained = [[GridPoint(dict(values), {}) for values in spec.grid] for _ in spec.splits]
    for done in points:
        for fold, metrics in enumerate(done.metrics):
            trained[fold][done.point] = GridPoint(dict(spec.grid[done.point]), metrics)
    result = score_folds(spec.series, spec.strategy, spec.base, spec.splits, trained, spec.objective)
    return {**result.to_dict(), "workers": sorted({done.worker for done in points})}


@job(executor_def=celery_executor, description="walk-forward backtest grid, one Celery task per grid point")
def backtest_grid_celery() -> None:
    spec = grid_spec()
    points = grid_points(spec).map(lambda point: grid_point(spec, point))
    grid_walk_forward(spec, points.collect())
