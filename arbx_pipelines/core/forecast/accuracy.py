"""Out-of-sample accuracy of the ARIMA and regression forecasts against the naive last-value forecast.

The last ``holdout_months`` calendar months of the data are held back: models are fitted on each symbol's
settlements before the cut-off (the regression per symbol too: venues' funding dynamics differ too much to share
one set of coefficients) and then predict each held-back settlement one step ahead from the values before it (the
parameters stay fixed). The naive forecast of a settlement is the previous settlement's rate. Errors are in
annualized-rate units (0.01 = 1 percentage point a year); skill = 1 - MAE(model) / MAE(naive) (> 0: better).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, Series, from_epoch_seconds, to_epoch_seconds
from arbx_pipelines.core.forecast.arima import ArmaFit, ForecastError, fit_arma, one_step_predictions
from arbx_pipelines.core.forecast.features import feature_frame, feature_names, market_mean
from arbx_pipelines.core.forecast.regression import RegressionFit, fit_regression


@dataclass(frozen=True)
class Errors:
    mae: float
    rmse: float

    @staticmethod
    def of(actual: FloatArray, predicted: FloatArray) -> Errors:
        diff = actual - predicted
        return Errors(float(np.mean(np.abs(diff))), float(np.sqrt(np.mean(diff * diff))))


@dataclass(frozen=True)
class SymbolAccuracy:
    key: str
    train_settlements: int
    test_settlements: int
    naive: Errors
    arima: Errors
    regression: Errors | None
    arima_fit: ArmaFit
    regression_fit: RegressionFit | None

    @property
    def arima_skill(self) -> float:
        return 1 - self.arima.mae / self.naive.mae if self.naive.mae > 0 else 0.0

    @property
    def regression_skill(self) -> float | None:
        if self.regression is None:
            return None
        return 1 - self.regression.mae / self.naive.mae if self.naive.mae > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["arima_skill"] = self.arima_skill
        out["regression_skill"] = self.regression_skill
        return out


@dataclass
class AccuracyReport:
    cutoff: str
    end: str
    holdout_months: int
    features: tuple[str, ...]
    symbols: list[SymbolAccuracy] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "end": self.end,
            "holdout_months": self.holdout_months,
            "features": list(self.features),
            "by_symbol": {s.key: s.to_dict() for s in self.symbols},
            "skipped": self.skipped,
            "summary": self.summary(),
        }

    def summary(self) -> dict[str, Any]:
        if not self.symbols:
            return {"symbols": 0}
        return {
            "symbols": len(self.symbols),
            "arima_beats_naive": sum(s.arima_skill > 0 for s in self.symbols),
            "regression_beats_naive": sum((s.regression_skill or 0) > 0 for s in self.symbols),
            "median_arima_skill": float(np.median([s.arima_skill for s in self.symbols])),
            "median_regression_skill": float(np.median([s.regression_skill or 0.0 for s in self.symbols])),
        }


def holdout_cutoff(end: int, months: int) -> int:
    """Start of the held-back span: the first day of the month ``months`` calendar months before the end.

    An end that falls on the first day of a month (e.g. a file ending 2024-07-01 00:00) counts that month as
    empty, so three held-back months of such a file are April, May and June.
    """
    if months < 1:
        raise ForecastError(f"holdout_months must be at least 1, got {months}")
    when = from_epoch_seconds(end)
    month_start = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    back = months if when.day == 1 else months - 1
    total = month_start.year * 12 + month_start.month - 1 - back
    return to_epoch_seconds(month_start.replace(year=total // 12, month=total % 12 + 1))


def evaluate_forecasts(
    series: Sequence[Series],
    *,
    holdout_months: int = 3,
    cutoff: datetime | None = None,
    order: tuple[int, int, int] = (1, 0, 1),
    method: str = "hannan_rissanen",
    workers: int = 1,
) -> AccuracyReport:
    """Fit on the data before the cut-off, score one-step forecasts after it, per symbol."""
    if not series:
        raise ForecastError("no series to evaluate")
    end = max(int(s.times[-1]) for s in series)
    cut = to_epoch_seconds(cutoff) if cutoff is not None else holdout_cutoff(end, holdout_months)
    names = feature_names(series)
    market = market_mean(series)
    frames = {s.key: feature_frame(s, market[s.key], names) for s in series}
    report = AccuracyReport(
        cutoff=from_epoch_seconds(cut).isoformat(),
        end=from_epoch_seconds(end).isoformat(),
        holdout_months=holdout_months,
        features=names,
    )
    tasks = [(s, cut, order, method) for s in series]
    if workers > 1 and len(tasks) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            fits = list(pool.map(_fit_train, tasks, chunksize=max(1, len(tasks) // (workers * 4))))
    else:
        fits = [_fit_train(task) for task in tasks]
    for item, fitted in zip(series, fits, strict=True):
        if isinstance(fitted, str):
            report.skipped[item.key] = fitted
            continue
        try:
            report.symbols.append(_score(item, cut, fitted, frames[item.key], names))
        except ForecastError as exc:
            report.skipped[item.key] = str(exc)
    return report


def _fit_train(task: tuple[Series, int, tuple[int, int, int], str]) -> ArmaFit | str:
    item, cut, order, method = task
    train = item.annualized[item.times < cut]
    if int((item.times >= cut).sum()) == 0:
        return "no settlements after the cut-off"
    try:
        return fit_arma(train, order, method)
    except ForecastError as exc:
        return str(exc)


def _score(item: Series, cut: int, fit: ArmaFit, frame: Any, names: tuple[str, ...]) -> SymbolAccuracy:
    """Errors of the three forecasts on the same held-back settlements."""
    values = item.annualized
    train = item.times < cut
    try:
        regression: RegressionFit | None = fit_regression({item.key: frame[train]}, names)
    except ForecastError:
        regression = None  # too few complete rows: reported without a regression
    test = np.flatnonzero(~train)
    test = test[test > 0]  # the naive forecast needs a previous settlement
    reg_pred = None
    if regression is not None:
        reg_pred = regression.predict(frame.iloc[test])
        usable = np.isfinite(reg_pred)
        test, reg_pred = test[usable], reg_pred[usable]
    if test.size == 0:
        raise ForecastError("no held-back settlement with every feature known")
    actual = values[test]
    return SymbolAccuracy(
        key=item.key,
        train_settlements=int(train.sum()),
        test_settlements=int(test.size),
        naive=Errors.of(actual, values[test - 1]),
        arima=Errors.of(actual, one_step_predictions(fit, values)[test]),
        regression=None if reg_pred is None else Errors.of(actual, reg_pred),
        arima_fit=fit,
        regression_fit=regression,
    )
