"""OLS (statsmodels) of the next annualized funding rate on the features of :mod:`features`.

Fitted on the rows of the frames given: one symbol's rows for a per-symbol model, several for a pooled one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbx_pipelines.core.backtest.data import FloatArray
from arbx_pipelines.core.forecast.arima import ForecastError


@dataclass(frozen=True)
class RegressionFit:
    names: tuple[str, ...]
    coefficients: dict[str, float]  # includes "const"
    r_squared: float
    observations: int

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        """Predictions for rows with every feature present (NaN elsewhere)."""
        values = self.coefficients["const"] + sum(self.coefficients[n] * frame[n] for n in self.names)
        return np.asarray(values, dtype=np.float64)


def fit_regression(frames: Mapping[str, pd.DataFrame], names: Sequence[str]) -> RegressionFit:
    import statsmodels.api as sm

    rows = pd.concat(list(frames.values()), ignore_index=True).dropna()
    if len(rows) < len(names) + 10:
        raise ForecastError(f"{len(rows)} complete rows are too few for a regression on {len(names)} features")
    design = sm.add_constant(rows[list(names)], has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a flat stretch of rates makes the design rank-deficient: still usable
        result = sm.OLS(rows["target"], design).fit()
    coefficients = {str(k): float(v) for k, v in result.params.items()}
    return RegressionFit(tuple(names), coefficients, float(result.rsquared), int(result.nobs))
