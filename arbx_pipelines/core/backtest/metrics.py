"""Performance metrics of a P&L stream: returns, Sharpe, Sortino, drawdown, win rate, utilization.

Conventions (stated once, used everywhere):
- P&L is not reinvested, so returns are relative to the capital actually committed (spot legs + perp margin +
  margin added, the peak of each symbol's sleeve) and the annualized return is simple: total_return x 365 / days.
- ``net_pnl = funding_income - fees + basis_pnl + other_pnl`` exactly: ``basis_pnl`` is the price P&L of both
  legs marked together, ``other_pnl`` the spread and slippage paid and what liquidations forfeited.
- Sharpe and Sortino use the daily returns of the marked equity (capital + every P&L event, both legs marked at
  every settlement; the last mark of each UTC day; days without events return 0), risk-free rate 0, annualized
  with sqrt(365) because crypto trades every day. Sortino's downside deviation is sqrt(mean(min(r, 0)^2)).
- ``mean_annualized_rate`` is time-weighted (each settlement weighs its interval), so mixed 8h/4h data is not
  biased toward the shorter intervals.
- ``funding_yield_annualized`` is funding income per unit of hedged notional per year actually held; for
  ``carry`` without prices it equals the mean annualized funding rate.
- Drawdown is measured on the marked equity curve (capital + cumulative P&L) after every event; its duration runs from
  the time the peak was set to the recovery of that peak (or to the end of the backtest when it never recovered).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, IntArray

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Drawdown:
    max_fraction: float
    duration_seconds: int
    peak_time: int | None
    trough_time: int | None


def max_drawdown(times: IntArray, equity: FloatArray, end_time: int | None = None) -> Drawdown:
    """Largest peak-to-trough fall of ``equity`` (a fraction of the peak) and the longest time under water."""
    if equity.size == 0:
        return Drawdown(0.0, 0, None, None)
    peaks = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        falls = np.where(peaks > 0, (peaks - equity) / peaks, 0.0)
    trough = int(np.argmax(falls))
    deepest = float(falls[trough])
    peak_index = int(np.flatnonzero(equity[: trough + 1] == peaks[trough])[0]) if deepest > 0 else None
    return Drawdown(
        max_fraction=deepest,
        duration_seconds=longest_underwater(times, equity, peaks, end_time),
        peak_time=None if peak_index is None else int(times[peak_index]),
        trough_time=int(times[trough]) if deepest > 0 else None,
    )


def longest_underwater(times: IntArray, equity: FloatArray, peaks: FloatArray, end_time: int | None) -> int:
    """Longest span from a new peak until equity is back at that peak (or until ``end_time``)."""
    under = equity < peaks
    if not under.any():
        return 0
    end = int(times[-1]) if end_time is None else max(int(end_time), int(times[-1]))
    edges = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # first index back at the peak (len(equity): never recovered)
    start_times = times[np.maximum(starts - 1, 0)]
    padded = np.concatenate([times, [end]])
    return int(np.max(padded[stops] - start_times))


def daily_equity_returns(times: IntArray, pnl: FloatArray, start: int, end: int, capital: float) -> FloatArray:
    """Return of each UTC day of the marked equity (capital + P&L up to the day's last mark) on the day before."""
    equity = capital + np.cumsum(daily_pnl(times, pnl, start, end))
    previous = np.concatenate([[capital], equity[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(previous > 0, equity / previous - 1, 0.0)


def daily_pnl(times: IntArray, pnl: FloatArray, start: int, end: int) -> FloatArray:
    """P&L per UTC calendar day from ``start`` to ``end`` inclusive, zero on days without events."""
    first_day = start // SECONDS_PER_DAY
    days = max(end // SECONDS_PER_DAY - first_day + 1, 1)
    index = np.clip(times // SECONDS_PER_DAY - first_day, 0, days - 1)
    return np.bincount(index, weights=pnl, minlength=days).astype(np.float64)[:days]


def sharpe_ratio(daily_returns: FloatArray) -> float:
    if daily_returns.size < 2:
        return 0.0
    std = float(np.std(daily_returns, ddof=1))
    if std <= 1e-15:
        return 0.0
    return float(np.mean(daily_returns)) / std * math.sqrt(DAYS_PER_YEAR)


def sortino_ratio(daily_returns: FloatArray) -> float:
    if daily_returns.size < 2:
        return 0.0
    downside = math.sqrt(float(np.mean(np.minimum(daily_returns, 0.0) ** 2)))
    if downside <= 1e-15:
        return 0.0
    return float(np.mean(daily_returns)) / downside * math.sqrt(DAYS_PER_YEAR)


def annualized(total_return: float, days: float) -> float:
    return total_return * DAYS_PER_YEAR / days if days > 0 else 0.0


def cagr(total_return: float, days: float) -> float:
    """Compound annual growth rate, for readers who compare with reinvesting strategies."""
    if days <= 0 or total_return <= -1:
        return -1.0 if total_return <= -1 else 0.0
    return float((1 + total_return) ** (DAYS_PER_YEAR / days) - 1)


def win_rate(trade_pnls: FloatArray) -> float:
    return float(np.mean(trade_pnls > 0)) if trade_pnls.size else 0.0


@dataclass(frozen=True)
class PnlStream:
    """Everything the metrics need about one backtest (a symbol or the whole book)."""

    event_times: IntArray
    event_pnl: FloatArray
    start: int
    end: int
    capital: float
    committed_capital: float
    funding_income: float
    fees: float
    spread_cost: float
    slippage_cost: float
    basis_pnl: float
    other_pnl: float  # spread + slippage paid (negative) and liquidation losses
    liquidations: int
    margin_events: int
    trade_pnls: FloatArray
    deployed_capital_seconds: float
    settlements: int
    mean_annualized_rate: float
    notional_seconds: float  # hedged notional x time held, summed over positions


def summarize(stream: PnlStream) -> dict[str, float | int]:
    """The metrics dictionary written under ``total`` and ``by_symbol`` in the backtest JSON."""
    moved = stream.event_pnl != 0  # flat settlements change nothing: skip them
    order = np.argsort(stream.event_times[moved], kind="stable")
    times, pnl = stream.event_times[moved][order], stream.event_pnl[moved][order]
    equity = stream.capital + np.cumsum(pnl)
    days = (stream.end - stream.start) / SECONDS_PER_DAY
    costs = stream.fees + stream.spread_cost + stream.slippage_cost
    net = stream.funding_income - stream.fees + stream.basis_pnl + stream.other_pnl
    base = stream.committed_capital if stream.committed_capital > 0 else stream.capital
    total_return = net / base
    daily = daily_equity_returns(times, pnl, stream.start, stream.end, stream.capital)
    curve_times = np.concatenate([[stream.start], times])
    curve = np.concatenate([[stream.capital], equity])
    drawdown = max_drawdown(curve_times, curve, stream.end)
    span = max(stream.end - stream.start, 1)
    return {
        "funding_income": stream.funding_income,
        "fees": stream.fees,
        "spread_cost": stream.spread_cost,
        "slippage_cost": stream.slippage_cost,
        "trading_costs": costs,
        "basis_pnl": stream.basis_pnl,
        "other_pnl": stream.other_pnl,
        "net_pnl": net,
        "liquidations": stream.liquidations,
        "margin_events": stream.margin_events,
        "committed_capital": stream.committed_capital,
        "funding_to_costs": stream.funding_income / costs if costs > 0 else 0.0,
        "total_return": total_return,
        "annualized_return": annualized(total_return, days),
        "cagr": cagr(total_return, days),
        "sharpe": sharpe_ratio(daily),
        "sortino": sortino_ratio(daily),
        "max_drawdown": drawdown.max_fraction,
        "max_drawdown_duration_days": drawdown.duration_seconds / SECONDS_PER_DAY,
        "win_rate": win_rate(stream.trade_pnls),
        "round_trips": int(stream.trade_pnls.size),
        "capital_utilization": stream.deployed_capital_seconds / (stream.capital * span),
        "settlements": stream.settlements,
        "mean_annualized_rate": stream.mean_annualized_rate,
        "funding_yield_annualized": (
            stream.funding_income / stream.notional_seconds * SECONDS_PER_DAY * DAYS_PER_YEAR
            if stream.notional_seconds > 0
            else 0.0
        ),
        "days": days,
    }
