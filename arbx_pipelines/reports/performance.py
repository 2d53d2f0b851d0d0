"""The performance report of the live (or simulated) account: daily P&L from funding, fees and closed hedges."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from arbx_pipelines.core.backtest.metrics import max_drawdown, sharpe_ratio, sortino_ratio
from arbx_pipelines.core.daily_pnl import DayActivity, day_bounds
from arbx_pipelines.engine.report import DayStats
from arbx_pipelines.reports import charts
from arbx_pipelines.reports.documents import Report, annualized_text


def build_performance_report(
    days: Sequence[DayActivity],
    capital: Decimal,
    title: str = "Performance",
    spot: Sequence[tuple[str, DayStats]] = (),
) -> Report:
    """Equity = capital + cumulative daily net P&L of the hedges (end of each UTC day). The spot engine's arbitrages
    (``spot``: per UTC day with any) are reported beside it, in their own lines and table."""
    if not days:
        report = Report(title, [("days with activity", "0")], {}, notes=["No positions, fills or funding yet."])
        return _with_spot(report, spot)
    times = np.array([int(day_bounds(d.day)[1].timestamp()) for d in days], dtype=np.int64)
    net = np.array([float(d.net) for d in days])
    funding = np.array([float(d.funding) for d in days])
    fees = np.array([float(d.fees) for d in days])
    start = int(day_bounds(days[0].day)[0].timestamp())
    curve_times = np.concatenate([[start], times])
    equity = float(capital) + np.concatenate([[0.0], np.cumsum(net)])
    drawdown = max_drawdown(curve_times, equity)
    span_days = (times[-1] - start) / 86_400
    daily = _calendar_daily(days, float(capital))
    per_symbol: dict[str, float] = {}
    for day in days:
        for key, row in day.symbols.items():
            per_symbol[key] = per_symbol.get(key, 0.0) + float(row.net)
    total_net = float(net.sum())
    summary = [
        ("period", f"{days[0].day} .. {days[-1].day} ({span_days:.0f} days)"),
        ("capital", f"{capital} USDT"),
        ("funding received", f"{funding.sum():.4f} USDT"),
        ("fees", f"{fees.sum():.4f} USDT"),
        ("price P&L of closed hedges", f"{sum(float(d.price_pnl) for d in days):.4f} USDT"),
        ("net P&L", f"{total_net:.4f} USDT"),
        ("annualized return", annualized_text(total_net / float(capital), span_days)),
        ("Sharpe / Sortino", f"{sharpe_ratio(daily):.2f} / {sortino_ratio(daily):.2f}"),
        ("max drawdown", f"{drawdown.max_fraction:.2%} over {drawdown.duration_seconds / 86_400:.1f} days"),
        ("hedges opened / closed", f"{_count(days, 'opened')} / {_count(days, 'closed')}"),
    ]
    notes = []
    unconverted = {
        c: sum((d.unconverted_fees.get(c, Decimal(0)) for d in days), Decimal(0))
        for d in days
        for c in d.unconverted_fees
    }
    if unconverted:
        notes.append(f"fees not in USDT or the traded coin, left out of the figures: {unconverted}")
    missing = sum(d.closed_without_pnl for d in days)
    if missing:
        notes.append(f"{missing} closed hedges have no realized P&L recorded; their price P&L is not counted")
    rows = [["day", "funding", "fees", "price P&L", "net"]] + [
        [str(d.day), f"{d.funding:.4f}", f"{d.fees:.4f}", f"{d.price_pnl:.4f}", f"{d.net:.4f}"] for d in days[-31:]
    ]
    report = Report(
        title=title,
        summary=summary,
        charts={
            "Equity curve": charts.equity_curve(curve_times, equity),
            "Drawdown": charts.drawdown(curve_times, equity),
            "Funding vs fees": charts.funding_vs_costs(
                curve_times, np.concatenate([[0.0], funding]), np.concatenate([[0.0], fees])
            ),
            "Per-symbol contribution": charts.contribution(list(per_symbol), list(per_symbol.values())),
        },
        tables={"Last 31 days with activity": rows},
        notes=notes,
    )
    return _with_spot(report, spot)


def _with_spot(report: Report, spot: Sequence[tuple[str, DayStats]]) -> Report:
    """The spot arbitrage lines: arbitrages and how many filled both legs as planned, expected vs realized P&L
    (the USDT flow of their fills), and a table per UTC day."""
    if not spot:
        return report
    arbitrages = sum(stats.arbitrages for _, stats in spot)
    succeeded = sum(stats.succeeded for _, stats in spot)
    expected = sum((stats.expected_pnl for _, stats in spot), Decimal(0))
    realized = sum((stats.realized_pnl for _, stats in spot), Decimal(0))
    report.summary.extend([
        ("spot arbitrages (both legs as planned)", f"{arbitrages} ({succeeded}, {succeeded / arbitrages:.0%})"),
        ("spot arbitrage P&L expected / realized", f"{expected:.4f} / {realized:.4f} USDT"),
    ])  # fmt: skip
    rows = [["day", "arbitrages", "succeeded", "expected", "realized"]] + [
        [day, str(s.arbitrages), str(s.succeeded), f"{s.expected_pnl:.4f}", f"{s.realized_pnl:.4f}"] for day, s in spot
    ]
    report.tables["Spot arbitrage per day"] = rows
    return report


def _calendar_daily(days: Sequence[DayActivity], capital: float) -> np.ndarray:
    """Daily returns over every calendar day of the span (days without activity are 0)."""
    first, last = days[0].day, days[-1].day
    out = np.zeros((last - first).days + 1)
    for day in days:
        out[(day.day - first).days] = float(day.net) / capital
    return out


def _count(days: Sequence[DayActivity], field: str) -> int:
    return sum(getattr(row, field) for d in days for row in d.symbols.values())
