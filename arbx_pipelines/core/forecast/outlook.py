"""Per-symbol outlook: ARIMA forecast of the annualized rate plus the signals that decide whether to trade it.

The ranking score is the forecast net return per day of holding (funding over the optimal holding time minus
round-trip costs, divided by that time), times the venue's risk factor. A symbol is eligible when the live entry
rules (``decide_entry``, through the backtester's adapter) would open it at its last settlement, no anomaly
pauses it and the forecast net return is positive.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import Series, from_epoch_seconds
from arbx_pipelines.core.backtest.live_rules import LIVE_RULES, SettlementView
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.forecast.arima import ArmaFit, ForecastError, fit_arma, forecast
from arbx_pipelines.core.forecast.signals import (
    Anomaly,
    Holding,
    Persistence,
    anomaly,
    daily_volatility,
    dynamic_leverage,
    optimal_holding,
    persistence,
)

RECENT_SETTLEMENTS = 21  # a week at 8h: the window of the live scorer's persistence share
HISTORY_FOR_FIT = 1095  # settlements: about a year at 8h is plenty for an ARMA(1,1) and keeps fits fast


@dataclass(frozen=True)
class OutlookSettings:
    strategy: BacktestParams = field(default_factory=BacktestParams)
    anomaly_z: float = 3.0
    anomaly_window: int = 90
    max_leverage: int = 5
    order: tuple[int, int, int] = (1, 0, 1)
    method: str = "hannan_rissanen"
    risk_factors: Mapping[str, float] | None = None


@dataclass(frozen=True)
class SymbolOutlook:
    venue: str
    symbol: str
    time: str
    interval_hours: float
    rate: float
    annualized: float
    forecast_next: float
    forecast_mean: float  # over the optimal holding time (the next settlement when that is 0)
    direction: int
    persistence: Persistence
    anomaly: Anomaly
    daily_volatility: float | None
    leverage: int
    holding: Holding
    round_trip_cost: float
    score: float
    eligible: bool
    reason: str
    fit: ArmaFit
    recent_rates: tuple[float, ...] = ()  # the last settlements' rates, newest last (for the live score)

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key
        return out


def symbol_outlook(item: Series, settings: OutlookSettings) -> SymbolOutlook:
    params = settings.strategy
    values = item.annualized
    interval = float(item.interval_hours[-1])
    fit = fit_arma(values[-HISTORY_FOR_FIT:], settings.order, settings.method)
    horizon = max(1, int(params.max_holding_days * 24 / interval))
    path = forecast(fit, values[-HISTORY_FOR_FIT:], horizon)
    current = float(values[-1])
    direction = 1 if current >= 0 else -1  # the side that would receive the current funding
    cost = params.round_trip_cost_rate(item.venue)
    holding = optimal_holding(
        path,
        direction,
        interval,
        exit_annualized=params.exit_annualized,
        max_holding_hours=params.max_holding_days * 24,
        round_trip_cost=cost,
    )
    prices = None if item.prices is None else item.prices
    price_now = None if prices is None else float(prices[-1])
    vol = daily_volatility(prices[-settings.anomaly_window - 1 :] if prices is not None else None, interval)
    flags = anomaly(values, prices, window=settings.anomaly_window, limit=settings.anomaly_z)
    days = max(holding.hours, interval) / 24
    risk = (settings.risk_factors or {}).get(item.venue, 1.0)
    score = holding.expected_net_rate / days * risk
    _, rejected = LIVE_RULES.entry_verdict(
        SettlementView(item.venue, item.symbol, int(item.times[-1]), float(item.rates[-1]), interval, price_now),
        params,
        params.notional_for(1),
    )
    reason = rejected or ("anomaly_paused" if flags.paused else "")
    if not reason and holding.expected_net_rate <= 0:
        reason = "forecast_below_costs"
    horizon_hours = max(holding.hours, params.planned_holding_hours)
    return SymbolOutlook(
        venue=item.venue,
        symbol=item.symbol,
        time=from_epoch_seconds(item.times[-1]).isoformat(),
        interval_hours=interval,
        rate=float(item.rates[-1]),
        annualized=current,
        forecast_next=float(path[0]),
        forecast_mean=float(np.mean(path[: max(holding.settlements, 1)])),
        direction=direction,
        persistence=persistence(values, params.entry_annualized, interval),
        anomaly=flags,
        daily_volatility=vol,
        leverage=dynamic_leverage(vol, horizon_hours, max_leverage=settings.max_leverage),
        holding=holding,
        round_trip_cost=cost,
        score=score,
        eligible=reason == "",
        reason=reason,
        fit=fit,
        recent_rates=tuple(item.rates[-RECENT_SETTLEMENTS:].tolist()),
    )


def _task(args: tuple[Series, OutlookSettings]) -> SymbolOutlook | str:
    try:
        return symbol_outlook(*args)
    except ForecastError as exc:
        return str(exc)


def outlooks(
    series: Sequence[Series], settings: OutlookSettings, *, workers: int = 1
) -> tuple[list[SymbolOutlook], dict[str, str]]:
    """Outlook of every series, best score first, and the series that could not be modelled (with why)."""
    tasks = [(item, settings) for item in series]
    if workers > 1 and len(tasks) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_task, tasks, chunksize=max(1, len(tasks) // (workers * 4))))
    else:
        results = [_task(task) for task in tasks]
    done = [r for r in results if isinstance(r, SymbolOutlook)]
    skipped = {item.key: r for item, r in zip(series, results, strict=True) if isinstance(r, str)}
    done.sort(key=lambda o: (not o.eligible, -o.score))
    return done, skipped
