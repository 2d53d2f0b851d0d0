"""Out-of-sample evidence for the shipped defaults: per walk-forward fold, ``threshold`` (the live rules with the
forecasts, parameters picked on the training window) against passive ``carry`` on the same unseen test window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arbx_pipelines.core.backtest.data import Series
from arbx_pipelines.core.backtest.grid import _run, _valid, walk_forward
from arbx_pipelines.core.backtest.params import BacktestParams

#: the grid ``--walk-forward`` searches when no ``--grid`` is given
DEFAULT_GRID: tuple[dict[str, Any], ...] = tuple(
    {"entry_annualized": entry, "exit_annualized": exit_, "planned_holding_hours": planned, "max_holding_days": days}
    for entry in (0.1, 0.2, 0.3)
    for exit_ in (0.0, 0.05)
    for planned in (72, 336)
    for days in (14, 90)
)
COLUMNS = ("annualized_return", "sharpe", "max_drawdown", "round_trips")


def carry_vs_threshold(
    series: Sequence[Series],
    base: BacktestParams,
    grid: Sequence[dict[str, Any]],
    *,
    folds: int,
    objective: str,
    workers: int = 1,
) -> dict[str, Any]:
    """Rows (fold, test window, strategy, metrics) of both strategies on every tested fold, and the skipped folds."""
    result = walk_forward(series, "threshold", base, grid, folds=folds, objective=objective, workers=workers)
    rows: list[dict[str, Any]] = []
    for number, fold in enumerate(result.folds, start=1):
        lo, hi = (_epoch(fold.test[0]), _epoch(fold.test[1]))
        carry = _run(series, "carry", _valid(base, {}), lo, hi) or {}
        for strategy, metrics, chosen in (("carry", carry, {}), ("threshold", fold.test_metrics, fold.best)):
            row = {"fold": number, "test": f"{fold.test[0][:10]}..{fold.test[1][:10]}", "strategy": strategy}
            row.update({name: metrics.get(name, 0.0) for name in COLUMNS})
            row["params"] = chosen
            rows.append(row)
    return {"objective": objective, "rows": rows, "skipped": result.skipped}


def format_table(comparison: dict[str, Any]) -> str:
    lines = [f"{'fold':>4}  {'test window':<22} {'strategy':<10} {'ann. return':>11} {'sharpe':>7} "
             f"{'max dd':>7} {'trips':>5}  params"]  # fmt: skip
    for row in comparison["rows"]:
        lines.append(
            f"{row['fold']:>4}  {row['test']:<22} {row['strategy']:<10} {row['annualized_return']:>11.2%} "
            f"{row['sharpe']:>7.2f} {row['max_drawdown']:>7.2%} {int(row['round_trips']):>5}  {row['params'] or ''}"
        )
    for skipped in comparison["skipped"]:
        lines.append(f"skipped fold (test {skipped['test']}): {skipped['reason']}")
    return "\n".join(lines)


def _epoch(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text).timestamp())
