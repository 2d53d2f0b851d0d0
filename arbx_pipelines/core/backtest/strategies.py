"""The ``threshold`` strategy (the live entry/exit rules) as a list of held round trips; ``carry`` is in the engine.

``threshold`` is event-driven per symbol and asks the live rules (via :mod:`live_rules`) only at settlements where
their answer can change: a vectorised pre-screen keeps the settlements that meet a *necessary* condition of the
rule (entry: |annualized| >= entry threshold; exit: in-favour annualized below the exit threshold, holding time
reached, or profit target reached), and the rule itself decides there. ``exhaustive=True`` asks at every
settlement instead; the tests check that both give the same trades.

With ``params.forecast`` the entry also needs the user's algorithms (``core.funding_rules``): funding expected over
the planned holding time under the forecast above the round-trip costs, the persistence share and the score; the
exit tests the forecast mean instead of the last rate (screened by a vectorised forecast mean, loosened); the hedge
is margined at the dynamic leverage. Each trade is handed to ``book`` when decided, which holds it (both legs
marked, risk rules applied) and may end it early; the strategy goes on from where the held trade ended.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from arbx_pipelines.core import funding_rules, liquidity
from arbx_pipelines.core.backtest.data import FloatArray, Series
from arbx_pipelines.core.backtest.live_rules import HeldPosition, Rules, SettlementView, venue_of
from arbx_pipelines.core.backtest.marking import HeldTrade, prices_of
from arbx_pipelines.core.backtest.memo import NO_ENTRY, NO_EXIT, NO_THRESHOLDS, NoMemo, SeriesMemo, params_key
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.money import to_decimal
from arbx_pipelines.core.scoring import ScoringParams

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
    leverage: float = 1.0


Book = Callable[[Trade], HeldTrade]
#: the vectorised forecast-mean screen is loosened by this much (annualized) so it never hides an exact exit
FORECAST_SCREEN_SLACK = 0.01
SCORING = ScoringParams()


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
    item: Series,
    params: BacktestParams,
    notional: float,
    rules: Rules,
    book: Book,
    *,
    exhaustive: bool = False,
    memo: SeriesMemo | None = None,
) -> tuple[list[HeldTrade], int]:
    """Round trips of the live rules on one series as ``book`` held them, and how many times the rules were asked.

    ``memo`` (a grid run's, :mod:`memo`) answers what another grid point already asked of this series: the next
    entry from a settlement (the same for every exit threshold), the exit of an entry (the same for every entry
    threshold), and below them the single decisions."""
    scan = _Scan(item, params, notional, rules, memo or NoMemo(item), exhaustive)
    memo, n = scan.memo, len(item)
    trades: list[HeldTrade] = []
    calls = 0
    cursor = 0
    while cursor < n - 1:
        k, direction, asked = memo.get(("next_entry", cursor, scan.entry_key), scan.next_entry, cursor)
        calls += asked
        if k < 0 or k >= n - 1:
            break
        exit_at, reason, asked = memo.get(("exit_of", k, direction, scan.exit_key), scan.exit_of, k, direction)
        calls += asked
        leverage = memo.get(("leverage", k, scan.shared), leverage_at, item, k, params)
        cols = scan.cols
        kept = book(Trade(direction, k, k + 1, exit_at, cols.time(k), cols.time(exit_at), reason, leverage))
        trades.append(kept)
        cursor = kept.last + 1
    return trades, calls


class _Scan:
    """One series under one parameter set: where the rules may fire, and the searches for entries and exits."""

    def __init__(
        self, item: Series, params: BacktestParams, notional: float, rules: Rules, memo: SeriesMemo, exhaustive: bool
    ) -> None:
        self.item, self.params, self.notional, self.rules, self.memo = item, params, notional, rules, memo
        self.exhaustive = exhaustive
        planned = params.planned_holding_hours
        self.yearly = yearly = memo.get("annualized", lambda: item.annualized)
        screen = (
            memo.get(("screen", planned), lambda: forecast_mean_screen(yearly, planned, item.interval_hours))
            if params.forecast
            else None
        )
        self.shared = shared = params_key(params, NO_THRESHOLDS)
        self.entry_key = (params_key(params, NO_EXIT), notional, rules, exhaustive)
        self.exit_key = (params_key(params, NO_ENTRY), notional, rules, exhaustive)
        self.candidates: list[int] = (
            list(range(len(item)))
            if exhaustive
            else memo.get(
                ("candidates", params.entry_annualized, shared), lambda: _entry_candidates(item, params, yearly, screen)
            )
        )
        self.below_exit = memo.get(
            ("below_exit", params.exit_annualized, shared), lambda: _below_exit(params, yearly, screen)
        )
        fee_rate, spread_rate, slip_rate = params.trade_cost_rates(item.venue)
        self.entry_cost = notional * (fee_rate + spread_rate + slip_rate)
        self.max_hold = params.max_holding_days * 86_400
        self.cols: _Columns = memo.get("columns", lambda: _Columns(item))

    def next_entry(self, cursor: int) -> tuple[int, int, int]:
        """The first settlement at or after ``cursor`` where the rules open a hedge: (index, direction, calls)."""
        memo, params, candidates = self.memo, self.params, self.candidates
        asked = 0
        for i in range(bisect.bisect_left(candidates, cursor), len(candidates)):
            asked += 1
            k = candidates[i]
            direction = memo.get(("entry", k, self.entry_key), self._entry_direction, k)
            if direction and (
                not params.forecast
                or memo.get(("veto", k, direction, self.shared), forecast_veto, self.item, k, direction, params) is None
            ):
                return k, direction, asked
        return -1, 0, asked

    def _entry_direction(self, k: int) -> int:
        return self.rules.entry_direction(self.cols.view(k), self.params, self.notional)

    def exit_of(self, k: int, direction: int) -> tuple[int, str, int]:
        """Where and why the rules close a hedge opened at ``k``: (settlement, reason, calls)."""
        cols, params, memo, n = self.cols, self.params, self.memo, len(self.item)
        calls = 0
        # funding received from k+1 through j: direction x notional / price_k x (paid[j] - paid[k])
        per_unit = direction * self.notional / cols.price(k)
        opened_at = cols.time(k)
        if self.exhaustive:
            early: list[int] = []
            timed_out = k + 1
        else:
            timed_out = max(int(np.searchsorted(cols.times, opened_at + self.max_hold, side="left")), k + 1)
            exits = self.below_exit[direction]
            early = exits[bisect.bisect_left(exits, k + 1) : bisect.bisect_left(exits, timed_out)]
            if params.profit_target is not None:
                target = params.profit_target + self.entry_cost - _SLACK * max(1.0, params.profit_target)
                earned = per_unit * (cols.paid[k + 1 : timed_out] - cols.paid[k])
                reached = (np.flatnonzero(earned >= target) + k + 1).tolist()
                early = sorted(set(early).union(reached))
        # every settlement from ``timed_out`` on is a candidate: the holding-time rule can fire there
        planned = params.planned_holding_hours
        for j in itertools.chain(early, range(timed_out, n)):
            calls += 1
            held = HeldPosition(
                direction, opened_at, self.notional, per_unit * cols.earned_per_unit(k, j), self.entry_cost
            )
            expected = (
                memo.get(("mean", j, planned), forecast_mean_at, self.yearly, self.item.interval_hours, j, params)
                if params.forecast
                else None
            )
            why = memo.get(("exit", j, held, expected, self.exit_key), self._exit_reason, j, held, expected)
            if why is not None:
                return j, why, calls
        return n - 1, "end_of_data", calls

    def _exit_reason(self, j: int, held: HeldPosition, expected: float | None) -> str | None:
        return self.rules.exit_reason(self.cols.view(j), held, self.params, expected)


def _entry_candidates(item: Series, params: BacktestParams, yearly: FloatArray, screen: FloatArray | None) -> list[int]:
    """Settlements where the entry rules may open (a necessary condition; the rules decide there)."""
    # the screens are loosened by a hair so float rounding never hides a settlement the exact rule would take
    level = params.entry_annualized * (1 - _SLACK)
    signed = np.abs(yearly) if params.allow_negative else yearly
    wanted = signed >= level
    if screen is not None:
        wanted &= forecast_entry_screen(item, params, screen)
    return list(np.flatnonzero(wanted).tolist())


def _below_exit(params: BacktestParams, yearly: FloatArray, screen: FloatArray | None) -> dict[int, list[int]]:
    """Per direction, the settlements where the exit-threshold rule may close (a necessary condition)."""
    exit_level = params.exit_annualized + _SLACK
    below_exit = {}
    for d in (1, -1):
        if screen is None:
            low = d * yearly < exit_level
        else:  # the forecast mean decides "below exit"; the last rate still decides a sign flip
            low = (d * yearly < _SLACK) | (d * screen < exit_level + FORECAST_SCREEN_SLACK)
        below_exit[d] = list(np.flatnonzero(low).tolist())
    return below_exit


def leverage_at(item: Series, k: int, params: BacktestParams) -> float:
    """The hedge's leverage: dynamic (``funding_rules.choose_leverage``) from the perp's recent volatility with
    ``forecast`` and prices, else ``params.leverage``."""
    if not params.forecast or item.perp is None:
        return params.leverage
    _, perp = prices_of(item)
    window = perp[max(0, k - funding_rules.FORECAST_WINDOW) : k + 1]
    volatility = funding_rules.daily_volatility(window, float(item.interval_hours[k]))
    return float(
        funding_rules.choose_leverage(
            volatility, params.planned_holding_hours, int(params.min_leverage), int(params.max_leverage)
        )
    )


def forecast_mean_at(yearly: FloatArray, intervals: FloatArray, k: int, params: BacktestParams) -> float:
    """The forecast mean annualized rate over the planned holding time, from the settlements up to ``k``."""
    lo = max(0, k + 1 - funding_rules.FORECAST_WINDOW)
    return funding_rules.forecast_mean(yearly[lo : k + 1], float(intervals[k]), params.planned_holding_hours)


def forecast_veto(item: Series, k: int, direction: int, params: BacktestParams) -> str | None:
    """Why the forecast, persistence or score rule (``funding_rules.assess_entry``, as live) refuses an entry at
    ``k`` (None: they allow it)."""
    lo = max(0, k + 1 - funding_rules.FORECAST_WINDOW)
    assessment = funding_rules.assess_entry(
        item.rates[lo : k + 1],
        item.annualized[lo : k + 1],
        direction,
        float(item.interval_hours[k]),
        planned_hours=params.planned_holding_hours,
        round_trip_cost_rate=params.round_trip_cost_rate(item.venue),
        min_persistence=to_decimal(params.min_persistence),
        expected_slippage_rate=stated_slippage_rate(params.spread_bps, params.slippage_bps),
        venue=venue_of(item.venue),
        scoring=SCORING,
        min_score=to_decimal(params.min_score),
    )
    return assessment.veto


@lru_cache(maxsize=64)
def stated_slippage_rate(spread_bps: float, slippage_bps: float) -> Decimal:
    """The liquidity input of the score (``core.liquidity.expected_slippage_rate``, as the funding sensor computes it
    from the books): history has no books, so both legs pay the stated half spread and slippage."""
    leg = liquidity.LegLiquidity(to_decimal(spread_bps / 1e4), impact_rate=to_decimal(slippage_bps / 1e4))
    return liquidity.expected_slippage_rate([leg, leg], Decimal(0))  # a stated impact: the size does not matter


def forecast_entry_screen(item: Series, params: BacktestParams, mean: FloatArray) -> Any:
    """Settlements where the forecast and persistence rules may allow an entry on the side the rate pays (a
    necessary condition, loosened for the forecast; the persistence count is exact); ``mean``: the forecast-mean
    screen of every settlement."""
    direction = np.where(item.rates >= 0, 1.0, -1.0)
    steps = np.maximum(1, np.floor(params.planned_holding_hours / np.maximum(item.interval_hours, 1.0)))
    years = steps * item.interval_hours / funding_rules.HOURS_PER_YEAR
    cost = params.round_trip_cost_rate(item.venue)
    forecast_ok = direction * mean * years > cost - FORECAST_SCREEN_SLACK * years
    window = funding_rules.RECENT_SETTLEMENTS
    counts = []
    for paying in (item.rates > 0, item.rates < 0):
        running = np.concatenate([[0], np.cumsum(paying)])
        hi = np.arange(1, len(item) + 1)
        counts.append(running[hi] - running[np.maximum(0, hi - window)])
    size = np.minimum(np.arange(1, len(item) + 1), window)
    share = np.where(direction > 0, counts[0], counts[1]) / size
    return forecast_ok & (share >= params.min_persistence - _SLACK)


def forecast_mean_screen(annualized: FloatArray, planned_hours: float, intervals: FloatArray) -> FloatArray:
    """Vectorised approximation of :func:`forecast_mean_at` at every settlement (a screen, not the decision)."""
    window = funding_rules.FORECAST_WINDOW
    n = annualized.size
    x = annualized.astype(np.float64)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    lag = np.concatenate([[0.0, 0.0], np.cumsum(x[1:] * x[:-1])])  # lag[i] = sum x_j x_{j-1}, j < i
    hi = np.arange(1, n + 1)
    lo = np.maximum(0, hi - window)
    count = hi - lo
    mean = (c1[hi] - c1[lo]) / count
    denominator = (c2[hi] - c2[lo]) - count * mean * mean
    pairs = np.maximum(count - 1, 0)
    cross = lag[hi] - lag[np.minimum(lo + 1, hi)]
    first, last = x[lo], x[hi - 1]
    numerator = cross - mean * (2 * (c1[hi] - c1[lo]) - first - last) + pairs * mean * mean
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where((denominator > 0) & (count >= 3), numerator / denominator, 0.0)
    phi = np.clip(phi, 0.0, funding_rules.MAX_AR_COEFFICIENT)
    steps = np.maximum(1, np.floor(planned_hours / np.maximum(intervals, 1.0))).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        decay = np.where(phi < 1e-12, 0.0, phi * (1 - phi**steps) / ((1 - phi) * steps))
    return np.asarray(mean + decay * (last - mean), dtype=np.float64)
