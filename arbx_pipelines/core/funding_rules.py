"""The user's funding algorithms as plain functions, one copy called by both drivers (DESIGN: "one decision function,
two drivers"): the live sensors and jobs, and the backtester's ``threshold`` strategy.

- :func:`opportunity_score`: the user's score (0.6 yield + 0.2 persistence + 0.2 liquidity, x venue risk factor),
  ``core.scoring.score``; the funding sensor ranks by it and the backtester gates entries on it.
- :func:`choose_leverage`: dynamic leverage (the funding-bot design, 3.2.4): the highest leverage whose liquidation
  distance survives a 3-sigma move over the planned holding time above the reduce-leverage tier, clamped to
  ``[min_leverage, max_leverage]``; the open job sets it on the venue, the backtester margins the perp with it.
- :func:`funding_outlook` and :func:`entry_veto`: an AR(1) forecast of the annualized rate (mean-reverting to the
  recent mean) and the persistence share of recent settlements; an entry needs the funding expected over the
  planned holding time under the forecast to beat the round-trip costs, and the rate to have persisted.
- exits: ``core.decision.decide_exit`` with the forecast mean (``forecast_annualized``): the hedge closes when the
  rate expected over the planned holding time falls below the exit threshold, not on one low settlement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from arbx_pipelines.core.forecast.signals import dynamic_leverage
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.scoring import ScoreBreakdown, ScoringParams, score

HOURS_PER_YEAR = 24 * 365
#: settlements the forecast and the volatility look back on (a month at 8h)
FORECAST_WINDOW = 90
#: settlements of the persistence share (a week at 8h), as the analytics' ranking uses
RECENT_SETTLEMENTS = 21
MAX_AR_COEFFICIENT = 0.99


def opportunity_score(
    annualized: Decimal,
    persistence_share: Decimal,
    expected_slippage_rate: Decimal,
    venue: Venue,
    params: ScoringParams,
) -> ScoreBreakdown:
    """The user's opportunity score (``core.scoring.score``); higher is better, in [0, 1]."""
    return score(annualized, persistence_share, expected_slippage_rate, venue, params)


def choose_leverage(daily_volatility: float | None, horizon_hours: float, min_leverage: int, max_leverage: int) -> int:
    """Dynamic leverage within ``[min_leverage, max_leverage]``; unknown volatility takes the minimum."""
    if not 1 <= min_leverage <= max_leverage:
        raise ValueError(f"leverage bounds must satisfy 1 <= min <= max, got [{min_leverage}, {max_leverage}]")
    if daily_volatility is None:
        return min_leverage
    raw = dynamic_leverage(daily_volatility, horizon_hours, max_leverage=max_leverage)
    return max(min_leverage, min(max_leverage, raw))


def daily_volatility(prices: Sequence[float] | np.ndarray, interval_hours: float) -> float | None:
    """Standard deviation of daily log returns, scaled from the returns between consecutive prices."""
    values = np.asarray(prices, dtype=np.float64)
    if values.size < 3 or (values <= 0).any():
        return None
    return float(np.std(np.diff(np.log(values)), ddof=1)) * math.sqrt(24 / interval_hours)


def forecast_path(recent_annualized: Sequence[float] | np.ndarray, horizon: int) -> np.ndarray:
    """AR(1) forecast of the annualized rate for the next ``horizon`` settlements (oldest first in the input).

    x[t+h] = mean + phi^h (x[t] - mean), phi the lag-1 autocorrelation of the window clipped to [0, 0.99]: the
    rate decays toward its recent mean as fast as it did in the window.
    """
    values = np.asarray(recent_annualized, dtype=np.float64)
    if values.size == 0 or horizon <= 0:
        return np.zeros(max(horizon, 0))
    mean = float(values.mean())
    phi = 0.0
    if values.size >= 3:
        centred = values - mean
        denominator = float(np.dot(centred, centred))
        if denominator > 0:
            phi = min(MAX_AR_COEFFICIENT, max(0.0, float(np.dot(centred[1:], centred[:-1])) / denominator))
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    return mean + phi**steps * (float(values[-1]) - mean)


def forecast_mean(
    recent_annualized: Sequence[float] | np.ndarray, interval_hours: float, planned_hours: float
) -> float:
    """The mean forecast annualized rate over the planned holding time (the exit test of both drivers: the hedge
    closes when it falls below the exit threshold), from the recent annualized rates, newest last."""
    steps = max(1, int(planned_hours // max(interval_hours, 1)))
    return float(forecast_path(np.asarray(recent_annualized)[-FORECAST_WINDOW:], steps).mean())


@dataclass(frozen=True, slots=True)
class RecentFunding:
    """Recent funding of one perpetual as both drivers feed it to the forecast and persistence: oldest first."""

    rates: list[float]
    interval_hours: list[float]

    @property
    def annualized(self) -> list[float]:
        """Each rate annualized on its own interval, as the backtester's series (``annualize_array``)."""
        return [rate * (24.0 / hours) * 365.0 for rate, hours in zip(self.rates, self.interval_hours, strict=True)]


def recent_funding(
    settled: Sequence[tuple[Decimal | float, float | None]], live_rate: Decimal | float, live_interval_hours: float
) -> RecentFunding:
    """The last ``FORECAST_WINDOW`` settled (rate, interval hours; None: the live interval) and the live rate last:
    what the live sensors know, in the order the backtester's series holds it."""
    kept = list(settled)[-FORECAST_WINDOW:]
    rates = [float(rate) for rate, _ in kept] + [float(live_rate)]
    hours = [float(h or live_interval_hours) for _, h in kept] + [float(live_interval_hours)]
    return RecentFunding(rates, hours)


@dataclass(frozen=True, slots=True)
class FundingOutlook:
    expected_funding_rate: float  # fraction of notional expected over the planned holding time, in our favour
    forecast_mean: float  # mean forecast annualized rate over that time (signed)
    persistence_share: Decimal  # share of recent settlements that paid our side
    settlements: int


def funding_outlook(
    recent_rates: Sequence[float] | np.ndarray,
    recent_annualized: Sequence[float] | np.ndarray,
    direction: int,
    interval_hours: float,
    planned_hours: float,
) -> FundingOutlook:
    """Forecast funding over the planned holding time and the persistence share, from recent settlements."""
    settlements = max(1, int(planned_hours // max(interval_hours, 1)))
    path = forecast_path(np.asarray(recent_annualized)[-FORECAST_WINDOW:], settlements)
    expected = float(np.sum(direction * path)) * interval_hours / HOURS_PER_YEAR
    return FundingOutlook(expected, float(path.mean()), persistence_share(recent_rates, direction), settlements)


def persistence_share(recent_rates: Sequence[float] | np.ndarray, direction: int) -> Decimal:
    """``core.scoring.persistence`` of the last settlements, counted on floats (a float's sign is its exact
    value's): the share of the last 21 settlements that paid the side ``direction`` holds."""
    recent = np.asarray(recent_rates, dtype=np.float64)[-RECENT_SETTLEMENTS:]
    if recent.size == 0:
        return Decimal(0)
    return Decimal(int(np.count_nonzero(direction * recent > 0))) / Decimal(int(recent.size))


def entry_veto(outlook: FundingOutlook, round_trip_cost_rate: float, min_persistence: Decimal) -> str | None:
    """Why the forecast or the persistence rule refuses an entry, or None when they allow it."""
    if outlook.expected_funding_rate <= round_trip_cost_rate:
        return (
            f"forecast_below_costs: expected funding {outlook.expected_funding_rate:.6f} over {outlook.settlements} "
            f"settlements <= round-trip costs {round_trip_cost_rate:.6f}"
        )
    if outlook.persistence_share < min_persistence:
        return f"not_persistent: persistence {outlook.persistence_share:.2f} < {min_persistence}"
    return None


@dataclass(frozen=True, slots=True)
class EntryAssessment:
    """What the user's algorithms say about an entry the live entry rules (``decide_entry``) allow."""

    outlook: FundingOutlook
    score: ScoreBreakdown
    veto: str | None  # None: go

    @property
    def allowed(self) -> bool:
        return self.veto is None


def assess_entry(
    recent_rates: Sequence[float] | np.ndarray,
    recent_annualized: Sequence[float] | np.ndarray,
    direction: int,
    interval_hours: float,
    *,
    planned_hours: float,
    round_trip_cost_rate: float,
    min_persistence: Decimal,
    expected_slippage_rate: Decimal,
    venue: Venue,
    scoring: ScoringParams,
    min_score: Decimal = Decimal(0),
) -> EntryAssessment:
    """The forecast, persistence and score of an entry (newest settlement last), and why they refuse it if they
    do: one function for the funding sensor and the backtester's ``threshold`` strategy."""
    outlook = funding_outlook(recent_rates, recent_annualized, direction, interval_hours, planned_hours)
    annualized = Decimal(repr(float(np.asarray(recent_annualized)[-1]))) if len(recent_annualized) else Decimal(0)
    value = opportunity_score(annualized, outlook.persistence_share, expected_slippage_rate, venue, scoring)
    veto = entry_veto(outlook, round_trip_cost_rate, min_persistence)
    if veto is None and value.score < min_score:
        veto = f"score_too_low: {value.score:.3f} < {min_score}"
    return EntryAssessment(outlook, value, veto)
