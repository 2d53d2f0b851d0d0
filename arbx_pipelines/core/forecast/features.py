"""Features for the funding regression: recent rates, price volatility, basis and the market-wide mean rate.

Every feature of row t uses only what was known before settlement t (values up to t-1), so a regression fitted
on them forecasts the next settlement without look-ahead. The target is the annualized rate settled at t.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from arbx_pipelines.core.backtest.data import FloatArray, Series

RECENT_WINDOWS = (3, 9)  # settlements: the last day and the last three days at 8h
VOLATILITY_WINDOW = 9
BASE_FEATURES = ("last_rate", "mean_rate_3", "mean_rate_9", "market_mean_rate")


def market_mean(series: Sequence[Series]) -> dict[str, FloatArray]:
    """Per series, the mean annualized rate over all symbols as last known at each of its settlements.

    Symbols settle at different times (8h, 4h, 1h), so each symbol's latest rate is carried forward to every
    settlement time before averaging.
    """
    frames = [pd.Series(s.annualized, index=pd.Index(s.times), name=s.key) for s in series]
    panel = pd.concat(frames, axis=1).sort_index().ffill()
    mean = panel.mean(axis=1)
    return {s.key: mean.reindex(s.times).to_numpy(dtype=np.float64) for s in series}


def feature_names(series: Sequence[Series]) -> tuple[str, ...]:
    """The features every series can provide: volatility needs prices, basis needs a ``basis`` column."""
    names = list(BASE_FEATURES)
    if series and all(s.prices is not None for s in series):
        names.append("price_volatility")
    if series and all("basis" in s.extra for s in series):
        names.append("basis")
    return tuple(names)


def feature_frame(item: Series, market: FloatArray, names: Sequence[str]) -> pd.DataFrame:
    """Rows aligned with ``item``'s settlements: column ``target`` (rate at t) and each feature (known at t-1)."""
    rates = pd.Series(item.annualized)
    known = rates.shift(1)
    frame = pd.DataFrame({"target": rates})
    frame["last_rate"] = known
    for window in RECENT_WINDOWS:
        frame[f"mean_rate_{window}"] = known.rolling(window).mean()
    frame["market_mean_rate"] = pd.Series(market).shift(1)
    if "price_volatility" in names and item.prices is not None:
        returns = pd.Series(np.log(item.prices)).diff()
        frame["price_volatility"] = returns.rolling(VOLATILITY_WINDOW).std().shift(1)
    if "basis" in names:
        frame["basis"] = pd.Series(item.extra["basis"]).shift(1)
    return frame[["target", *names]]
