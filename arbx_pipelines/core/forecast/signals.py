"""Trading signals derived from a symbol's funding history and forecast.

- Persistence: how long an annualized rate above a threshold is expected to stay above it. Crossings are
  modelled as a two-state Markov chain estimated on the history: p = P(above next | above now) (Laplace-smoothed),
  so the expected number of further settlements above is p / (1 - p).
- Anomaly: the live guard (``core.anomaly``): z-score of the latest funding rate (and the latest price return)
  against the previous ``window`` settlements; |z| > the risk limit (3 by default) pauses new entries on that
  symbol (DESIGN, "Risk").
- Dynamic leverage: the highest leverage (1..max, max 5) whose liquidation distance survives an adverse price
  move of ``sigmas`` standard deviations over the holding horizon and still stays above the "reduce leverage" tier
  (20 %). A short perp at leverage L starts about d0 = 1/L - maintenance margin from liquidation; after the price
  rises by m the distance is (d0 - m) / (1 + m); requiring that >= 20 % gives d0 >= 0.2 (1 + m) + m.
- Optimal holding time: hold while the forecast annualized rate in our favour stays at or above the exit
  threshold (the live exit rule), at most the maximum holding time; the hedge is worth opening only if the
  forecast funding over that time exceeds the round-trip costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arbx_pipelines.core.anomaly import is_anomalous, z_score
from arbx_pipelines.core.backtest.data import FloatArray

REDUCE_LEVERAGE_DISTANCE = 0.20  # DESIGN risk tiers: below 20 % liquidation distance, reduce leverage
MAINTENANCE_MARGIN = 0.005
HOURS_PER_YEAR = 24 * 365


@dataclass(frozen=True)
class Persistence:
    probability: float  # P(above next settlement | above now)
    expected_settlements: float  # further settlements above, when above now (0 when below)
    expected_hours: float
    above_now: bool


def persistence(annualized: FloatArray, threshold: float, interval_hours: float) -> Persistence:
    """Markov estimate of the time ``|annualized|`` stays at or above ``threshold`` from the last settlement."""
    above = np.abs(annualized) >= threshold
    if above.size < 2:
        return Persistence(0.0, 0.0, 0.0, bool(above[-1]) if above.size else False)
    was_above = above[:-1]
    stays = int(np.sum(was_above & above[1:]))
    probability = (stays + 1) / (int(was_above.sum()) + 2)
    now = bool(above[-1])
    settlements = probability / (1 - probability) if now else 0.0
    return Persistence(probability, settlements, settlements * interval_hours, now)


@dataclass(frozen=True)
class Anomaly:
    funding_z: float | None
    price_z: float | None
    paused: bool


def anomaly(annualized: FloatArray, prices: FloatArray | None, *, window: int = 90, limit: float = 3.0) -> Anomaly:
    """The live anomaly guard (``core.anomaly``) on the latest funding rate and the latest price return."""
    history = annualized[-window - 1 : -1].tolist()
    latest = float(annualized[-1]) if annualized.size else 0.0
    paused = is_anomalous(history, latest, limit)
    price_z = None
    if prices is not None and prices.size >= 3:
        returns = np.diff(np.log(prices))
        price_history = returns[-window - 1 : -1].tolist()
        price_z = z_score(price_history, float(returns[-1]))
        paused = paused or is_anomalous(price_history, float(returns[-1]), limit)
    return Anomaly(z_score(history, latest), price_z, paused)


def daily_volatility(prices: FloatArray | None, interval_hours: float) -> float | None:
    """Standard deviation of daily log returns, scaled from the returns between settlements."""
    if prices is None or prices.size < 3:
        return None
    returns = np.diff(np.log(prices))
    return float(np.std(returns, ddof=1)) * math.sqrt(24 / interval_hours)


def dynamic_leverage(
    daily_vol: float | None, horizon_hours: float, *, max_leverage: int = 5, sigmas: float = 3.0
) -> int:
    """The highest leverage whose liquidation distance survives a ``sigmas`` move over ``horizon_hours``.

    Unknown volatility gives 1x (the safe default).
    """
    if daily_vol is None or not math.isfinite(daily_vol):
        return 1
    move = sigmas * daily_vol * math.sqrt(max(horizon_hours, 1.0) / 24)
    needed = REDUCE_LEVERAGE_DISTANCE * (1 + move) + move
    leverage = math.floor(1 / (needed + MAINTENANCE_MARGIN))
    return max(1, min(max_leverage, leverage))


@dataclass(frozen=True)
class Holding:
    settlements: int
    hours: float
    expected_funding_rate: float  # funding over the holding time, fraction of notional
    expected_net_rate: float  # minus round-trip costs
    break_even_settlements: int | None


def optimal_holding(
    forecast_annualized: FloatArray,
    direction: int,
    interval_hours: float,
    *,
    exit_annualized: float,
    max_holding_hours: float,
    round_trip_cost: float,
) -> Holding:
    """Hold while the forecast in our favour stays >= the exit threshold, within the maximum holding time."""
    limit = max(0, min(forecast_annualized.size, math.floor(max_holding_hours / interval_hours)))
    in_favour = direction * forecast_annualized[:limit]
    below = np.flatnonzero(in_favour < exit_annualized)
    settlements = int(below[0]) if below.size else limit
    per_settlement = in_favour[:settlements] * interval_hours / HOURS_PER_YEAR
    funding = float(per_settlement.sum())
    first = float(per_settlement[0]) if settlements else 0.0
    break_even = math.floor(round_trip_cost / first) + 1 if first > 0 else None
    return Holding(settlements, settlements * interval_hours, funding, funding - round_trip_cost, break_even)
