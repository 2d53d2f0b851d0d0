"""Replays funding settlements through a strategy and holds each hedge as the live system would (``marking``).

Timing (no look-ahead): a decision at settlement k sees the rate settled at k; a position opened there earns
funding from settlement k+1 on; a position closed at settlement j has earned j's funding. ``carry`` opens at the
start of the first funding period (one interval before the first settlement) so it earns every settlement, and
opens again at once when the risk rules end its hedge. Positions still open when the data ends are closed at the
last settlement (reason ``end_of_data``), so every position is a round trip with its exit costs paid.

Each symbol gets an equal sleeve of the capital (``capital / symbols``); a hedge's notional is what the sleeve
holds at the hedge's leverage (spot leg + perp margin), or ``params.notional``. Both legs are marked at every
settlement, so the equity curve, Sharpe, Sortino and drawdown see the basis and the margin events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, IntArray, Series, from_epoch_seconds
from arbx_pipelines.core.backtest.live_rules import LIVE_RULES, SHORT_PERP, Rules
from arbx_pipelines.core.backtest.marking import HeldTrade, LegCosts, Marks, hold
from arbx_pipelines.core.backtest.memo import NO_THRESHOLDS, Memo, NoMemo, SeriesMemo, params_key
from arbx_pipelines.core.backtest.metrics import PnlStream, summarize
from arbx_pipelines.core.backtest.params import STRATEGIES, BacktestParams, ParamError
from arbx_pipelines.core.backtest.strategies import Trade, threshold_trades


@dataclass
class SymbolResult:
    """One perpetual's round trips as held and the P&L events they produced."""

    series: Series
    notional: float
    held: list[HeldTrade]
    marks: Marks
    start: int
    end: int

    @property
    def key(self) -> str:
        return self.series.key

    def total(self, name: str) -> float:
        return float(sum(getattr(h, name) for h in self.held))

    @property
    def funding(self) -> FloatArray:
        """Funding received per settlement (0 while flat)."""
        return self.marks.funding

    @property
    def cost_times(self) -> IntArray:
        return np.array(self.marks.cost_times, dtype=np.int64)

    @property
    def costs(self) -> FloatArray:
        """Costs booked at ``cost_times``: fees, spread, slippage and margin lost to liquidations."""
        return np.array(self.marks.costs, dtype=np.float64)

    @property
    def committed(self) -> float:
        return max((h.committed for h in self.held), default=0.0)


@dataclass
class BacktestResult:
    strategy: str
    params: BacktestParams
    notional: float
    symbols: list[SymbolResult]
    start: int
    end: int
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def stream(self, only: SymbolResult | None = None) -> PnlStream:
        """The P&L stream of one symbol (on its sleeve of the capital) or of the whole book."""
        parts = self.symbols if only is None else [only]
        capital = self.params.capital if only is None else self.params.capital / max(len(self.symbols), 1)
        held = [h for p in parts for h in p.held]
        empty = np.zeros(0)
        rates = np.concatenate([p.series.annualized for p in parts]) if parts else empty
        hours = np.concatenate([p.series.interval_hours for p in parts]) if parts else empty

        def total(name: str) -> float:
            return float(sum(p.total(name) for p in parts))

        return PnlStream(
            event_times=np.concatenate([p.marks.event_times() for p in parts]) if parts else np.zeros(0, np.int64),
            event_pnl=np.concatenate([p.marks.event_pnl() for p in parts]) if parts else empty,
            start=self.start if only is None else only.start,
            end=self.end if only is None else only.end,
            capital=capital,
            committed_capital=float(sum(p.committed for p in parts)),
            funding_income=total("funding"),
            fees=total("fees"),
            spread_cost=total("spread"),
            slippage_cost=total("slippage"),
            basis_pnl=total("basis_pnl"),
            other_pnl=total("other_pnl"),
            liquidations=sum(1 for h in held if h.liquidated),
            margin_events=sum(h.margin_events for h in held),
            trade_pnls=np.array([h.pnl for h in held]),
            deployed_capital_seconds=float(sum(h.committed * (h.exit_time - h.entry_time) for h in held)),
            notional_seconds=float(sum(h.quantity * h.perp_entry * (h.exit_time - h.entry_time) for h in held)),
            settlements=int(rates.size),
            mean_annualized_rate=float(np.average(rates, weights=hours)) if rates.size else 0.0,
        )

    def total(self) -> dict[str, float | int]:
        return summarize(self.stream())

    def by_symbol(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in self.symbols:
            metrics: dict[str, Any] = {"venue": part.series.venue, "symbol": part.series.symbol}
            metrics.update(summarize(self.stream(part)))
            metrics["notional"] = part.notional
            out[part.key] = metrics
        return out

    def equity_curve(self) -> tuple[IntArray, FloatArray]:
        """(times, marked equity) after every event, starting with the capital at the start."""
        stream = self.stream()
        order = np.argsort(stream.event_times, kind="stable")
        times = np.concatenate([[self.start], stream.event_times[order]])
        equity = self.params.capital + np.concatenate([[0.0], np.cumsum(stream.event_pnl[order])])
        return times.astype(np.int64), equity

    def trades(self) -> list[dict[str, Any]]:
        """Every round trip with its legs' prices, P&L parts and margin adjustments (the ``trades`` JSON list)."""
        rows = []
        for part in self.symbols:
            for h in part.held:
                rows.append(
                    {
                        "symbol": part.key,
                        "entry_time": from_epoch_seconds(h.entry_time).isoformat(),
                        "exit_time": from_epoch_seconds(h.exit_time).isoformat(),
                        "direction": "short_perp" if h.direction == SHORT_PERP else "long_perp",
                        "quantity": h.quantity,
                        "leverage": h.leverage,
                        "spot_entry": h.spot_entry,
                        "spot_exit": h.spot_exit,
                        "perp_entry": h.perp_entry,
                        "perp_exit": h.perp_exit,
                        "funding": h.funding,
                        "fees": h.fees,
                        "basis_pnl": h.basis_pnl,
                        "other_pnl": h.other_pnl,
                        "pnl": h.pnl,
                        "close_reason": h.close_reason,
                        "settlements": h.last - h.first + 1,
                        "adjustments": [a.as_dict() for a in h.adjustments],
                    }
                )
        return rows

    def to_dict(self, *, include_trades: bool = False) -> dict[str, Any]:
        params = self.params.as_dict()
        params["notional"] = self.notional
        params["strategy"] = self.strategy
        params["symbol_count"] = len(self.symbols)
        result: dict[str, Any] = {
            "strategy": self.strategy,
            "params": params,
            "period": {
                "start": from_epoch_seconds(self.start).isoformat(),
                "end": from_epoch_seconds(self.end).isoformat(),
                "days": (self.end - self.start) / 86_400,
            },
            "symbols": [p.key for p in self.symbols],
            "total": self.total(),
            "by_symbol": self.by_symbol(),
            "diagnostics": self.diagnostics,
        }
        if include_trades:
            result["trades"] = self.trades()
        return result


def run_backtest(
    series: Sequence[Series],
    strategy: str,
    params: BacktestParams,
    *,
    rules: Rules = LIVE_RULES,
    exhaustive: bool = False,
    memo: Memo | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``series``; ``exhaustive`` asks the rules at every settlement (slow, for tests);
    ``memo`` shares answers between the points of a parameter grid on the same series (same results)."""
    if strategy not in STRATEGIES:
        raise ParamError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    usable = [s for s in series if len(s)]
    if not usable:
        raise ParamError("no settlements to backtest")
    notional = params.notional_for(len(usable))
    sleeve = params.capital / len(usable)
    results: list[SymbolResult] = []
    calls = 0
    shared = params_key(params, NO_THRESHOLDS)
    for item in usable:
        marks = Marks(np.zeros(len(item)))
        costs = LegCosts(params, item.venue)
        known = NoMemo(item) if memo is None else memo.of(item)

        def book(
            trade: Trade, item: Series = item, marks: Marks = marks, costs: LegCosts = costs, known: SeriesMemo = known
        ) -> HeldTrade:
            size = params.notional if params.notional is not None else sleeve / (1 + 1 / trade.leverage)
            spare = max(0.0, sleeve - size * (1 + 1 / trade.leverage))

            def held_alone() -> tuple[HeldTrade, Marks]:
                own = Marks(np.zeros(len(item)))
                kept = hold(
                    item, trade.direction, trade.entry_index, trade.first, trade.last, trade.entry_time,
                    trade.close_reason, notional=size, leverage=trade.leverage, spare_cash=spare, costs=costs,
                    marks=own,
                )  # fmt: skip
                own.funding = own.funding[trade.first : kept.last + 1].copy()  # the rest is zero: keep it small
                return kept, own

            if isinstance(known, NoMemo):
                return hold(
                    item, trade.direction, trade.entry_index, trade.first, trade.last, trade.entry_time,
                    trade.close_reason, notional=size, leverage=trade.leverage, spare_cash=spare, costs=costs,
                    marks=marks,
                )  # fmt: skip
            kept, own = known.get(("hold", trade, size, spare, shared), held_alone)
            marks.merge(own, trade.first)
            return kept

        if strategy == "carry":
            held = carry_held(item, params, book)
        else:
            held, asked = threshold_trades(item, params, notional, rules, book, exhaustive=exhaustive, memo=known)
            calls += asked
        results.append(SymbolResult(item, notional, held, marks, item.period_start, int(item.times[-1])))
    start = min(r.start for r in results)
    end = max(r.end for r in results)
    diagnostics = {"settlements": int(sum(len(s) for s in usable)), "rule_calls": calls}
    return BacktestResult(strategy, params, notional, results, start, end, diagnostics)


def carry_held(item: Series, params: BacktestParams, book: Any) -> list[HeldTrade]:
    """Short perp + long spot from the start of the first funding period to the last settlement; a hedge the risk
    rules end is opened again at once (at that settlement's prices)."""
    last = len(item) - 1
    held = [book(Trade(SHORT_PERP, 0, 0, last, item.period_start, 0, "end_of_data", params.leverage))]
    while held[-1].last < last:
        k = held[-1].last
        held.append(book(Trade(SHORT_PERP, k, k + 1, last, int(item.times[k]), 0, "end_of_data", params.leverage)))
    return held
