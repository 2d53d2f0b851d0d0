"""The grid's fast path (answers shared between grid points through ``core.backtest.memo``, windows cut once, worker
processes) gives exactly what each parameter set gives run alone through the uncached path: every metric equal, not
approximately equal."""

from __future__ import annotations

from typing import Any

import pytest

from arbx_pipelines.bench.backtest import synthetic_arrays
from arbx_pipelines.core.backtest.data import Series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.grid import expand_grid, run_grid, walk_forward_splits
from arbx_pipelines.core.backtest.memo import Memo
from arbx_pipelines.core.backtest.params import BacktestParams

#: entry x exit as the bench varies them, and the parameters a shared answer must not be mixed up across
GRID = [
    *expand_grid({"entry_annualized": [0.3, 0.6], "exit_annualized": [0.0, 0.14]}),
    {"entry_annualized": 0.3, "exit_annualized": 0.28, "max_holding_days": 1},  # same settlements asked, other
    {"entry_annualized": 0.3, "exit_annualized": 0.0, "max_holding_days": 1},  # exit threshold: other reasons
    {"entry_annualized": 0.3, "exit_annualized": 0.0, "min_persistence": 0.8},
    {"entry_annualized": 0.3, "exit_annualized": 0.0, "max_leverage": 2.0},
    {"entry_annualized": 0.3, "exit_annualized": 0.0, "slippage_bps": 5.0, "profit_target": 2.0},
    {"entry_annualized": 0.3, "exit_annualized": 0.0, "forecast": False, "leverage": 10.0},  # margin events
]


@pytest.fixture(scope="module")
def series() -> list[Series]:
    """Four perpetuals, a year of 8h funding with hot spells, spot and perp prices volatile enough for margin
    events at the dynamic leverage."""
    return synthetic_arrays(4, 365 * 3, seed=3)


def _alone(series: list[Series], values: dict[str, Any], window: tuple[int | None, int | None]) -> dict[str, Any]:
    cut = [w for w in (s.window(*window) for s in series) if len(w)]
    params = BacktestParams().with_values(**values)
    metrics = run_backtest(cut, "threshold", params).total()
    return metrics | {"capital": params.capital}


def test_grid_points_equal_the_uncached_runs_exactly(series: list[Series]) -> None:
    (train, test), *_ = walk_forward_splits(series, 2)
    windows = [(None, None), train, test]
    serial = run_grid(series, "threshold", BacktestParams(), GRID, windows=windows)
    parallel = run_grid(series, "threshold", BacktestParams(), GRID, windows=windows, workers=2)
    traded = 0
    for w, window in enumerate(windows):
        for point, twin in zip(serial[w], parallel[w], strict=True):
            alone = _alone(series, point.values, window)
            assert point.metrics == alone, point.values
            assert twin.metrics == alone, point.values
            traded += int(alone["round_trips"])
    assert traded > 0


def test_a_shared_memo_gives_the_same_trades_marks_and_symbols(series: list[Series]) -> None:
    """Held trades come from the memo with their marks merged in: the full JSON, trades included, is unchanged."""
    memo = Memo()
    adjusted = 0
    for values in [*GRID, *GRID[::-1]]:  # both orders: an answer shared wrongly shows whichever point asked first
        params = BacktestParams().with_values(**values)
        fast = run_backtest(series, "threshold", params, memo=memo).to_dict(include_trades=True)
        slow = run_backtest(series, "threshold", params).to_dict(include_trades=True)
        assert fast == slow, values
        adjusted += sum(len(t["adjustments"]) for t in slow["trades"])
    assert adjusted > 0  # the margin rules acted, so merged marks include their cuts and transfers
