"""The backtest report: headline metrics, the four charts and the per-symbol table of a backtest result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from arbx_pipelines.core.backtest.data import FloatArray, IntArray
from arbx_pipelines.core.backtest.engine import BacktestResult
from arbx_pipelines.reports import charts
from arbx_pipelines.reports.documents import Report, annualized_text

TABLE_ROWS = 30


def funding_and_costs(result: BacktestResult) -> tuple[IntArray, FloatArray, FloatArray]:
    """Every event time with the funding and the costs booked at it (unsorted events merged, sorted)."""
    times, funding, costs = [], [], []
    for part in result.symbols:
        times += [part.series.times, part.cost_times]
        funding += [part.funding, np.zeros(part.cost_times.size)]
        costs += [np.zeros(len(part.series)), part.costs]
    if not times:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty
    all_times = np.concatenate(times)
    order = np.argsort(all_times, kind="stable")
    return all_times[order], np.concatenate(funding)[order], np.concatenate(costs)[order]


def build_backtest_report(result: BacktestResult, title: str | None = None) -> Report:
    output = result.to_dict()
    total = output["total"]
    times, equity = result.equity_curve()
    event_times, funding, costs = funding_and_costs(result)
    by_symbol = output["by_symbol"]
    summary = [
        ("strategy", result.strategy),
        ("period", f"{output['period']['start'][:10]} .. {output['period']['end'][:10]} ({total['days']:.0f} days)"),
        ("symbols", str(len(result.symbols))),
        ("capital", f"{result.params.capital:.2f} USDT"),
        ("hedged notional per symbol", f"{result.notional:.2f} USDT"),
        ("funding income", f"{total['funding_income']:.4f} USDT"),
        ("fees", f"{total['fees']:.4f} USDT"),
        ("spread + slippage", f"{total['spread_cost'] + total['slippage_cost']:.4f} USDT"),
        ("net P&L", f"{total['net_pnl']:.4f} USDT"),
        ("total return", f"{total['total_return']:.2%}"),
        ("annualized return", annualized_text(total["total_return"], total["days"])),
        ("Sharpe / Sortino", f"{total['sharpe']:.2f} / {total['sortino']:.2f}"),
        ("max drawdown", f"{total['max_drawdown']:.2%} over {total['max_drawdown_duration_days']:.1f} days"),
        ("round trips / win rate", f"{total['round_trips']} / {total['win_rate']:.0%}"),
        ("capital utilization", f"{total['capital_utilization']:.0%}"),
    ]
    rows = [["symbol", "funding", "costs", "net P&L", "ann. return", "sharpe", "max DD", "round trips"]]
    ranked = sorted(by_symbol.items(), key=lambda kv: -kv[1]["net_pnl"])[:TABLE_ROWS]
    for key, m in ranked:
        rows.append([
            key, f"{m['funding_income']:.4f}", f"{m['trading_costs']:.4f}", f"{m['net_pnl']:.4f}",
            annualized_text(m["total_return"], m["days"]), f"{m['sharpe']:.2f}", f"{m['max_drawdown']:.2%}",
            str(m["round_trips"]),
        ])  # fmt: skip
    return Report(
        title=title or f"Backtest: {result.strategy}",
        summary=summary,
        charts={
            "Equity curve": charts.equity_curve(times, equity),
            "Drawdown": charts.drawdown(times, equity),
            "Funding vs costs": charts.funding_vs_costs(event_times, funding, costs),
            "Per-symbol contribution": charts.contribution(
                list(by_symbol), [float(m["net_pnl"]) for m in by_symbol.values()]
            ),
        },
        tables={"By symbol (best first)": rows},
        notes=[
            "Returns are on the starting capital without reinvestment; annualized = total x 365 / days.",
            "Sharpe and Sortino: daily returns, risk-free 0, x sqrt(365).",
        ],
    )


def add_forecast_outlook(report: Report, path: Path, symbols: set[str]) -> None:
    """The latest ``funding_forecasts`` outlook of the backtested symbols, as a table of the report (what the
    forecasts expect next beside what the past returned); a note instead when no forecast was materialized yet."""
    if not path.is_file():
        report.notes.append("no funding_forecasts materialized yet: the report shows no forecast outlook")
        return
    latest = json.loads(path.read_text(encoding="utf-8"))
    rows = [["symbol", "annualized now", "forecast mean", "eligible"]]
    for item in latest["outlooks"]:
        if item["symbol"] in symbols:
            eligible = "yes" if item["eligible"] else item["reason"] or "no"
            rows.append([item["symbol"], f"{item['annualized']:.2%}", f"{item['forecast_mean']:.2%}", eligible])
    report.tables[f"Forecast outlook (funding_forecasts of {latest['generated_at'][:16]})"] = rows
