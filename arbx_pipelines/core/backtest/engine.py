"""Replays funding settlements through a strategy and books funding, fees, spread and slippage.

Timing (no look-ahead): a decision at settlement k sees the rate settled at k; a position opened there earns
funding from settlement k+1 on; a position closed at settlement j has earned j's funding. ``carry`` opens at the
start of the first funding period (one interval before the first settlement) so it earns every settlement.
Positions still open when the data ends are closed at the last settlement (reason ``end_of_data``), so every
position is a round trip with its exit costs paid.

Funding of a hedge on settlement k is direction x rate_k x size x price_k, with size = notional / entry price
(the price at the entry settlement; ``carry`` uses the first settlement's); exit costs are charged on
size x exit price. Without prices funding is direction x rate_k x notional (a hedge kept at constant notional).
Price moves of the two legs cancel (1:1 hedge), so they add no P&L.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, IntArray, Series, from_epoch_seconds
from arbx_pipelines.core.backtest.live_rules import LIVE_RULES, SHORT_PERP, Rules
from arbx_pipelines.core.backtest.metrics import PnlStream, summarize
from arbx_pipelines.core.backtest.params import STRATEGIES, BacktestParams, ParamError
from arbx_pipelines.core.backtest.strategies import Trade, carry_trades, threshold_trades


@dataclass
class SymbolResult:
    """One perpetual's trades and the P&L events they produced."""

    series: Series
    notional: float
    trades: list[Trade]
    funding: FloatArray  # per settlement, 0 while flat
    cost_times: IntArray
    fees: FloatArray
    spread: FloatArray
    slippage: FloatArray
    trade_pnls: FloatArray
    deployed_seconds: float
    notional_seconds: float
    start: int
    end: int

    @property
    def key(self) -> str:
        return self.series.key

    def event_times(self) -> IntArray:
        return np.concatenate([self.series.times, self.cost_times])

    def event_pnl(self) -> FloatArray:
        return np.concatenate([self.funding, -(self.fees + self.spread + self.slippage)])


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
        """The P&L stream of one symbol (on its share of the capital) or of the whole book."""
        parts = self.symbols if only is None else [only]
        capital = self.params.capital if only is None else self.params.capital / max(len(self.symbols), 1)
        times = np.concatenate([p.event_times() for p in parts]) if parts else np.zeros(0, np.int64)
        pnl = np.concatenate([p.event_pnl() for p in parts]) if parts else np.zeros(0)
        rates = np.concatenate([p.series.annualized for p in parts]) if parts else np.zeros(0)
        return PnlStream(
            event_times=times,
            event_pnl=pnl,
            start=self.start if only is None else only.start,
            end=self.end if only is None else only.end,
            capital=capital,
            funding_income=float(sum(p.funding.sum() for p in parts)),
            fees=float(sum(p.fees.sum() for p in parts)),
            spread_cost=float(sum(p.spread.sum() for p in parts)),
            slippage_cost=float(sum(p.slippage.sum() for p in parts)),
            trade_pnls=np.concatenate([p.trade_pnls for p in parts]) if parts else np.zeros(0),
            deployed_capital_seconds=float(sum(p.deployed_seconds for p in parts)),
            notional_seconds=float(sum(p.notional_seconds for p in parts)),
            settlements=int(sum(len(p.series) for p in parts)),
            mean_annualized_rate=float(rates.mean()) if rates.size else 0.0,
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
        """(times, equity) after every event, starting with the capital at the start."""
        stream = self.stream()
        order = np.argsort(stream.event_times, kind="stable")
        times = np.concatenate([[self.start], stream.event_times[order]])
        equity = self.params.capital + np.concatenate([[0.0], np.cumsum(stream.event_pnl[order])])
        return times.astype(np.int64), equity

    def trades(self) -> list[dict[str, Any]]:
        rows = []
        for part in self.symbols:
            for trade, pnl in zip(part.trades, part.trade_pnls, strict=True):
                rows.append(
                    {
                        "symbol": part.key,
                        "direction": "short_perp" if trade.direction == SHORT_PERP else "long_perp",
                        "opened_at": from_epoch_seconds(trade.entry_time).isoformat(),
                        "closed_at": from_epoch_seconds(trade.exit_time).isoformat(),
                        "settlements": trade.last - trade.first + 1,
                        "net_pnl": float(pnl),
                        "close_reason": trade.close_reason,
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
) -> BacktestResult:
    """Backtest ``strategy`` on ``series``; ``exhaustive`` asks the rules at every settlement (slow, for tests)."""
    if strategy not in STRATEGIES:
        raise ParamError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    usable = [s for s in series if len(s)]
    if not usable:
        raise ParamError("no settlements to backtest")
    notional = params.notional_for(len(usable))
    results: list[SymbolResult] = []
    calls = 0
    for item in usable:
        if strategy == "carry":
            trades = carry_trades(item)
        else:
            trades, asked = threshold_trades(item, params, notional, rules, exhaustive=exhaustive)
            calls += asked
        results.append(book_trades(item, trades, params, notional))
    start = min(r.start for r in results)
    end = max(r.end for r in results)
    diagnostics = {"settlements": int(sum(len(s) for s in usable)), "rule_calls": calls}
    return BacktestResult(strategy, params, notional, results, start, end, diagnostics)


def book_trades(item: Series, trades: list[Trade], params: BacktestParams, notional: float) -> SymbolResult:
    """Funding per settlement and costs per entry and exit of ``trades`` on ``item`` (vectorised over trades)."""
    n = len(item)
    count = len(trades)
    direction = np.fromiter((t.direction for t in trades), dtype=np.float64, count=count)
    entry_index = np.fromiter((t.entry_index for t in trades), dtype=np.int64, count=count)
    first = np.fromiter((t.first for t in trades), dtype=np.int64, count=count)
    last = np.fromiter((t.last for t in trades), dtype=np.int64, count=count)
    entry_time = np.fromiter((t.entry_time for t in trades), dtype=np.int64, count=count)
    exit_time = np.fromiter((t.exit_time for t in trades), dtype=np.int64, count=count)
    lengths = last - first + 1
    owner = np.repeat(np.arange(count), lengths)  # trade of each held settlement
    held = first[owner] + (np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    if item.prices is None:
        scale: FloatArray = np.ones(owner.size)
        exit_notional = np.full(count, notional)
    else:
        entry_price = item.prices[entry_index]
        scale = item.prices[held] / entry_price[owner]
        exit_notional = notional * item.prices[last] / entry_price
    funding = np.zeros(n, dtype=np.float64)
    funding[held] = direction[owner] * item.rates[held] * notional * scale
    trade_funding = np.bincount(owner, weights=funding[held], minlength=count)
    fee_rate, spread_rate, slip_rate = params.trade_cost_rates(item.venue)
    traded = np.stack([np.full(count, notional), exit_notional], axis=1).reshape(-1)
    cost_rate = fee_rate + spread_rate + slip_rate
    return SymbolResult(
        series=item,
        notional=notional,
        trades=trades,
        funding=funding,
        cost_times=np.stack([entry_time, exit_time], axis=1).reshape(-1),
        fees=traded * fee_rate,
        spread=traded * spread_rate,
        slippage=traded * slip_rate,
        trade_pnls=trade_funding - (notional + exit_notional) * cost_rate,
        deployed_seconds=float(notional * (1 + 1 / params.leverage) * (exit_time - entry_time).sum()),
        notional_seconds=float(notional * (exit_time - entry_time).sum()),
        start=item.period_start,
        end=int(item.times[-1]),
    )
