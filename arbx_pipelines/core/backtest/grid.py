"""Parameter grid search with a walk-forward split, so a parameter set is judged on data it was not picked on.

The span of the data is cut into ``folds + 1`` equal time segments. Fold i picks the best parameter set on its
training window (segment i, or segments 0..i when ``anchored``) by ``objective`` and reports that set's metrics on
segment i+1, which it never saw. The out-of-sample figures are those test windows taken together.

Grid points run in worker processes (``workers``); each worker receives the data once.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from arbx_pipelines.core.backtest.data import Series, from_epoch_seconds
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.memo import Memo
from arbx_pipelines.core.backtest.metrics import DAYS_PER_YEAR, SECONDS_PER_DAY
from arbx_pipelines.core.backtest.params import BacktestParams, ParamError

OBJECTIVES = ("sharpe", "net_pnl", "annualized_return", "sortino")
Window = tuple[int | None, int | None]


@dataclass(frozen=True)
class GridPoint:
    values: dict[str, Any]
    metrics: dict[str, Any]


@dataclass
class Fold:
    train: tuple[str, str]
    test: tuple[str, str]
    best: dict[str, Any]
    train_score: float
    test_metrics: dict[str, Any]


@dataclass
class WalkForwardResult:
    objective: str
    folds: list[Fold] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # folds not tested, each with its reason

    def out_of_sample(self) -> dict[str, float]:
        """The test windows together: net P&L summed, returns annualized over the tested days."""
        net = sum(float(f.test_metrics["net_pnl"]) for f in self.folds)
        days = sum(float(f.test_metrics["days"]) for f in self.folds)
        capital = float(self.folds[0].test_metrics.get("capital", 0.0)) if self.folds else 0.0
        total_return = net / capital if capital else 0.0
        sharpes = [float(f.test_metrics["sharpe"]) for f in self.folds]
        return {
            "net_pnl": net,
            "days": days,
            "annualized_return": total_return * DAYS_PER_YEAR / days if days else 0.0,
            "mean_sharpe": sum(sharpes) / len(sharpes) if sharpes else 0.0,
            "worst_max_drawdown": max((float(f.test_metrics["max_drawdown"]) for f in self.folds), default=0.0),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "folds": [f.__dict__ for f in self.folds],
            "skipped": self.skipped,
            "out_of_sample": self.out_of_sample(),
        }


def expand_grid(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in ``space`` (a dict of parameter -> candidate values)."""
    if not space:
        return [{}]
    keys = sorted(space)
    for key in keys:
        if not space[key]:
            raise ParamError(f"grid parameter {key!r} has no values")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(space[k] for k in keys))]


_WORKER_SERIES: list[Series] = []
_WORKER_MEMO = Memo()


def _init_worker(series: list[Series]) -> None:
    global _WORKER_SERIES, _WORKER_MEMO
    _WORKER_SERIES = series
    _WORKER_MEMO = Memo()


def _evaluate(task: tuple[str, BacktestParams, Window]) -> dict[str, Any] | None:
    strategy, params, (lo, hi) = task
    return _run(_WORKER_SERIES, strategy, params, lo, hi, _WORKER_MEMO)


def _run(
    series: Sequence[Series],
    strategy: str,
    params: BacktestParams,
    lo: int | None,
    hi: int | None,
    memo: Memo | None = None,
) -> Any:
    """The metrics of one grid point on one window (None: no settlements in it); ``memo`` shares the windows and
    the per-series answers with the other points run in this process."""
    if memo is None:
        cut = [w for w in (s.window(lo, hi) for s in series) if len(w)]
    else:
        cut = memo.windows(series if isinstance(series, list) else list(series), lo, hi)
    if not cut:
        return None
    metrics = run_backtest(cut, strategy, params, memo=memo).total()
    metrics["capital"] = params.capital
    return metrics


def _valid(base: BacktestParams, values: dict[str, Any]) -> BacktestParams:
    try:
        return base.with_values(**values)
    except TypeError as exc:
        raise ParamError(f"grid point {values}: {exc}") from exc


def run_grid(
    series: Sequence[Series],
    strategy: str,
    base: BacktestParams,
    grid: Sequence[dict[str, Any]],
    *,
    windows: Sequence[Window] = ((None, None),),
    workers: int = 1,
) -> list[list[GridPoint]]:
    """Metrics of every grid point on every window: ``result[w][g]``."""
    params = [_valid(base, values) for values in grid]  # validate everything before any work
    tasks = [(strategy, p, w) for w in windows for p in params]
    if workers > 1 and len(tasks) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(list(series),)) as ex:
            outputs = list(ex.map(_evaluate, tasks, chunksize=max(1, len(tasks) // (workers * 4))))
    else:
        memo, listed = Memo(), list(series)
        outputs = [_run(listed, strategy, p, lo, hi, memo) for strategy, p, (lo, hi) in tasks]
    result: list[list[GridPoint]] = []
    for w in range(len(windows)):
        chunk = outputs[w * len(grid) : (w + 1) * len(grid)]
        result.append([GridPoint(dict(values), m or {}) for values, m in zip(grid, chunk, strict=True)])
    return result


def _split(series: Sequence[Series], folds: int, anchored: bool) -> list[tuple[Window, Window]]:
    start = min(s.period_start for s in series)
    end = max(int(s.times[-1]) for s in series) + 1
    step = (end - start) // (folds + 1)
    if step < SECONDS_PER_DAY:
        raise ParamError(f"{folds} walk-forward folds leave less than a day per window")
    edges = [start + i * step for i in range(folds + 1)] + [end]
    return [((edges[0] if anchored else edges[i], edges[i + 1]), (edges[i + 1], edges[i + 2])) for i in range(folds)]


def walk_forward(
    series: Sequence[Series],
    strategy: str,
    base: BacktestParams,
    grid: Sequence[dict[str, Any]],
    *,
    folds: int = 4,
    objective: str = "sharpe",
    anchored: bool = False,
    workers: int = 1,
) -> WalkForwardResult:
    """Pick parameters on each training window and score them on the following, unseen window."""
    if objective not in OBJECTIVES:
        raise ParamError(f"unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}")
    if folds < 1:
        raise ParamError(f"folds must be at least 1, got {folds}")
    splits = walk_forward_splits(series, folds, anchored)
    trained = run_grid(series, strategy, base, grid, windows=[train for train, _ in splits], workers=workers)
    return score_folds(series, strategy, base, splits, trained, objective)


def walk_forward_splits(series: Sequence[Series], folds: int, anchored: bool = False) -> list[tuple[Window, Window]]:
    """The (train, test) windows of :func:`walk_forward`, for running its grid elsewhere (Dagster's Celery executor)."""
    return _split(series, folds, anchored)


def score_folds(
    series: Sequence[Series],
    strategy: str,
    base: BacktestParams,
    splits: Sequence[tuple[Window, Window]],
    trained: Sequence[Sequence[GridPoint]],
    objective: str,
) -> WalkForwardResult:
    """Pick each fold's best grid point on its training window (``trained[fold]``) and test it on the next window."""
    result = WalkForwardResult(objective)
    for (train, test), points in zip(splits, trained, strict=True):
        scored = [p for p in points if p.metrics]
        window = {"train": f"{_iso(train[0])}..{_iso(train[1])}", "test": f"{_iso(test[0])}..{_iso(test[1])}"}
        if not scored:
            result.skipped.append(window | {"reason": "no settlements in the training window"})
            continue
        if strategy != "carry" and not any(int(p.metrics.get("round_trips", 0)) for p in scored):
            result.skipped.append(
                window | {"reason": "no grid point traded in the training window: nothing to choose parameters on"}
            )
            continue
        best = max(scored, key=lambda p: float(p.metrics[objective]))  # first of equals wins
        test_metrics = _run(series, strategy, _valid(base, best.values), test[0], test[1])
        if test_metrics is None:
            continue
        result.folds.append(
            Fold(
                train=(_iso(train[0]), _iso(train[1])),
                test=(_iso(test[0]), _iso(test[1])),
                best=best.values,
                train_score=float(best.metrics[objective]),
                test_metrics=test_metrics,
            )
        )
    return result


def _iso(seconds: int | None) -> str:
    return "" if seconds is None else from_epoch_seconds(seconds).isoformat()
