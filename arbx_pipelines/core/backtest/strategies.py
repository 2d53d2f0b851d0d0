"""Strategies as lists of trades: ``carry`` (always hedged) and ``threshold`` (the live entry/exit rules).

``threshold`` is event-driven per symbol and asks the live rules (via :mod:`live_rules`) only at settlements where
their answer can change: a vectorised pre-screen keeps the settlements that meet a *necessary* condition of the
rule (entry: |annualized| >= entry threshold; exit: in-favour annualized below the exit threshold, holding time
reached, or profit target reached), and the rule itself decides there. ``exhaustive=True`` asks at every
settlement instead; the tests check that both give the same trades.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

import numpy as np

from arbx_pipelines.core.backtest.data import Series
from arbx_pipelines.core.backtest.live_rules import SHORT_PERP, HeldPosition, Rules, SettlementView
from arbx_pipelines.core.backtest.params import BacktestParams

_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Trade:
    """A hedge that earned the funding of settlements ``first..last`` (inclusive)."""

    direction: int  # +1 short perp + long spot, -1 long perp + short spot
    entry_index: int  # settlement whose price sized the position
    first: int
    last: int
    entry_time: int
    exit_time: int
    close_reason: str


def carry_trades(item: Series) -> list[Trade]:
    """Short perp + long spot from the start of the first funding period to the last settlement."""
    start = item.period_start
    last = len(item) - 1
    return [Trade(SHORT_PERP, 0, 0, last, start, int(item.times[last]), "end_of_data")]


class _Columns:
    """Scalar access to one series for the event loop (Python numbers, as the rules expect)."""

    def __init__(self, item: Series) -> None:
        self.venue = item.venue
        self.symbol = item.symbol
        self.times = item.times
        self.rates = item.rates
        self.intervals = item.interval_hours
        self.prices = item.prices
        weighted = item.rates if item.prices is None else item.rates * item.prices
        self.paid = np.cumsum(weighted)  # running sum of rate x price

    def time(self, k: int) -> int:
        return int(self.times[k])

    def price(self, k: int) -> float:
        return 1.0 if self.prices is None else float(self.prices[k])

    def earned_per_unit(self, k: int, j: int) -> float:
        """Sum of rate x price over settlements k+1..j."""
        return float(self.paid[j] - self.paid[k])

    def view(self, k: int) -> SettlementView:
        price = None if self.prices is None else float(self.prices[k])
        return SettlementView(
            self.venue, self.symbol, int(self.times[k]), float(self.rates[k]), float(self.intervals[k]), price
        )


def threshold_trades(
    item: Series, params: BacktestParams, notional: float, rules: Rules, *, exhaustive: bool = False
) -> tuple[list[Trade], int]:
    """Trades of the live rules on one series, and how many times the rules were asked."""
    n = len(item)
    yearly = item.annualized
    if exhaustive:
        entry_candidates: list[int] = list(range(n))
    else:
        # the screens are loosened by a hair so float rounding never hides a settlement the exact rule would take
        level = params.entry_annualized * (1 - _SLACK)
        signed = np.abs(yearly) if params.allow_negative else yearly
        entry_candidates = np.flatnonzero(signed >= level).tolist()
    exit_level = params.exit_annualized + _SLACK
    below_exit = {d: np.flatnonzero(d * yearly < exit_level).tolist() for d in (1, -1)}
    fee_rate, spread_rate, slip_rate = params.trade_cost_rates(item.venue)
    entry_cost = notional * (fee_rate + spread_rate + slip_rate)
    max_hold = params.max_holding_days * 86_400
    cols = _Columns(item)
    trades: list[Trade] = []
    calls = 0
    cursor = 0
    while cursor < n - 1:
        k, direction, asked = _next_entry(cols, entry_candidates, cursor, params, notional, rules)
        calls += asked
        if k < 0 or k >= n - 1:
            break
        # funding received from k+1 through j: direction x notional / price_k x (paid[j] - paid[k])
        per_unit = direction * notional / cols.price(k)
        opened_at = cols.time(k)
        if exhaustive:
            early: list[int] = []
            timed_out = k + 1
        else:
            timed_out = max(int(np.searchsorted(cols.times, opened_at + max_hold, side="left")), k + 1)
            exits = below_exit[direction]
            early = exits[bisect.bisect_left(exits, k + 1) : bisect.bisect_left(exits, timed_out)]
            if params.profit_target is not None:
                target = params.profit_target + entry_cost - _SLACK * max(1.0, params.profit_target)
                earned = per_unit * (cols.paid[k + 1 : timed_out] - cols.paid[k])
                reached = (np.flatnonzero(earned >= target) + k + 1).tolist()
                early = sorted(set(early).union(reached))
        # every settlement from ``timed_out`` on is a candidate: the holding-time rule can fire there
        exit_at, reason = n - 1, "end_of_data"
        for j in itertools.chain(early, range(timed_out, n)):
            calls += 1
            held = HeldPosition(direction, opened_at, notional, per_unit * cols.earned_per_unit(k, j), entry_cost)
            why = rules.exit_reason(cols.view(j), held, params)
            if why is not None:
                exit_at, reason = j, why
                break
        trades.append(Trade(direction, k, k + 1, exit_at, opened_at, cols.time(exit_at), reason))
        cursor = exit_at + 1
    return trades, calls


def _next_entry(
    cols: _Columns, candidates: list[int], cursor: int, params: BacktestParams, notional: float, rules: Rules
) -> tuple[int, int, int]:
    """The first settlement at or after ``cursor`` where the rules open a hedge: (index, direction, calls)."""
    asked = 0
    for i in range(bisect.bisect_left(candidates, cursor), len(candidates)):
        asked += 1
        k = candidates[i]
        direction = rules.entry_direction(cols.view(k), params, notional)
        if direction:
            return k, direction, asked
    return -1, 0, asked
