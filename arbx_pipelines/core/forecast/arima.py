"""Per-symbol ARIMA(p, 0, q) of the annualized funding rate, estimated with statsmodels.

Estimation uses statsmodels' Hannan-Rissanen estimator by default (regressions only: ~50x faster than the
state-space likelihood and close to it on series this long), or the exact Gaussian likelihood of
``statsmodels.tsa.arima.model.ARIMA`` with ``method="mle"``. Predictions use the ARMA recursion with the fitted
parameters (one-step-ahead over a test span, h-step forecasts), which equals statsmodels' own filter once its
start-up transient has passed (the tests check this).

Rates are modelled annualized, so a symbol that moves from 8h to 4h settlements keeps a comparable series.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray

METHODS = ("hannan_rissanen", "mle")
MIN_OBSERVATIONS = 40


class ForecastError(ValueError):
    """A series cannot be modelled as asked (too short, unknown method)."""


@dataclass(frozen=True)
class ArmaFit:
    """y_t - mean = sum(ar_i (y_{t-i} - mean)) + e_t + sum(ma_j e_{t-j}), Var(e) = sigma2."""

    mean: float
    ar: tuple[float, ...]
    ma: tuple[float, ...]
    sigma2: float
    method: str

    @property
    def order(self) -> tuple[int, int, int]:
        return (len(self.ar), 0, len(self.ma))


def fit_arma(values: FloatArray, order: tuple[int, int, int] = (1, 0, 1), method: str = "hannan_rissanen") -> ArmaFit:
    """Estimate ARIMA(p, 0, q) on ``values``; falls back to AR(p) by Yule-Walker if the ARMA fit is unusable."""
    p, d, q = order
    if d != 0:
        raise ForecastError(f"order {order}: funding rates are modelled in levels (d = 0)")
    if method not in METHODS:
        raise ForecastError(f"unknown ARIMA method {method!r}; choose one of: {', '.join(METHODS)}")
    if values.size < MIN_OBSERVATIONS:
        raise ForecastError(f"{values.size} observations are too few for ARIMA (need {MIN_OBSERVATIONS})")
    mean = float(values.mean())
    scale = float(values.std()) or 1.0
    scaled = (values - mean) / scale  # well-conditioned regressions whatever the units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ar, ma, sigma2 = _estimate(scaled, p, q, method)
        except (np.linalg.LinAlgError, ValueError):
            ar, ma, sigma2 = _yule_walker(scaled, max(p, 1))
            method = "yule_walker"
    if not (_stationary(ar) and _stationary(tuple(-m for m in ma))):
        ar, ma, sigma2 = _yule_walker(scaled, max(p, 1))
        method = "yule_walker"
    return ArmaFit(mean=mean, ar=ar, ma=ma, sigma2=sigma2 * scale * scale, method=method)


def _estimate(scaled: FloatArray, p: int, q: int, method: str) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    if method == "mle":
        from statsmodels.tsa.arima.model import ARIMA

        result = ARIMA(scaled, order=(p, 0, q), trend="n").fit(cov_type="none")
        ar = tuple(float(v) for v in result.arparams) if p else ()
        ma = tuple(float(v) for v in result.maparams) if q else ()
        return ar, ma, float(result.params[-1])
    from statsmodels.tsa.arima.estimators.hannan_rissanen import hannan_rissanen

    fitted, _ = hannan_rissanen(scaled, ar_order=p, ma_order=q, demean=False)
    return (
        tuple(float(v) for v in fitted.ar_params),
        tuple(float(v) for v in fitted.ma_params),
        float(fitted.sigma2),
    )


def _yule_walker(scaled: FloatArray, p: int) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    from statsmodels.tsa.arima.estimators.yule_walker import yule_walker

    fitted, _ = yule_walker(scaled, ar_order=p, demean=False)
    return tuple(float(v) for v in fitted.ar_params), (), float(fitted.sigma2)


def _stationary(coefficients: tuple[float, ...]) -> bool:
    """All roots of 1 - c1 z - ... - cp z^p outside the unit circle."""
    if not coefficients:
        return True
    roots = np.roots(np.r_[-np.asarray(coefficients)[::-1], 1.0])
    return bool(np.all(np.abs(roots) > 1.0 + 1e-6))


def one_step_predictions(fit: ArmaFit, values: FloatArray) -> FloatArray:
    """prediction[t] = E[y_t | y_0..y_{t-1}] for every t (the first ones start from the mean)."""
    centred = values - fit.mean
    ar_poly = np.r_[1.0, -np.asarray(fit.ar)]
    ma_poly = np.r_[1.0, np.asarray(fit.ma)]
    from scipy.signal import lfilter  # here, not at import: scipy.signal takes ~1 s to load

    innovations = lfilter(ar_poly, ma_poly, centred)
    return np.asarray(values - innovations, dtype=np.float64)


def forecast(fit: ArmaFit, values: FloatArray, steps: int) -> FloatArray:
    """Forecasts of y_{n}, ..., y_{n+steps-1} given ``values`` = y_0..y_{n-1}."""
    centred = list(values - fit.mean)
    innovations = list(values - one_step_predictions(fit, values))
    out = []
    for _ in range(steps):
        ar_part = sum(c * centred[-1 - i] for i, c in enumerate(fit.ar) if i < len(centred))
        ma_part = sum(c * innovations[-1 - j] for j, c in enumerate(fit.ma) if j < len(innovations))
        nxt = ar_part + ma_part
        centred.append(nxt)
        innovations.append(0.0)
        out.append(nxt + fit.mean)
    return np.asarray(out, dtype=np.float64)
