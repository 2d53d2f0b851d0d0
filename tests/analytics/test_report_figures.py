"""Report figures that mislead when the data is short: one day of activity, a span under a week."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
from matplotlib.dates import num2date
from matplotlib.figure import Figure

from arbx_pipelines.core.daily_pnl import DayActivity
from arbx_pipelines.reports.charts import fit_span, funding_vs_costs
from arbx_pipelines.reports.documents import annualized_text
from arbx_pipelines.reports.performance import build_performance_report

DAY = 1_735_776_000  # 2025-01-02 00:00 UTC
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_one_instant_gets_a_one_day_axis_not_years() -> None:
    axes = Figure().add_subplot()
    axes.plot(np.array([DAY], dtype="datetime64[s]"), [1.0])
    fit_span(axes, np.array([DAY]))
    low, high = (num2date(x) for x in axes.get_xlim())
    assert (high - low).total_seconds() == 86_400 and low.isoformat() == "2025-01-01T12:00:00+00:00"


def test_funding_vs_fees_of_a_single_day_is_drawn() -> None:
    assert funding_vs_costs(np.array([DAY]), np.array([0.5]), np.array([0.2])).startswith(PNG_MAGIC)


def test_annualized_figures_need_a_week() -> None:
    assert annualized_text(-0.003, 1 / 24) == "n/a (less than 7 days)"  # one hour: no -108 % a year
    assert annualized_text(0.01, 7) == "52.14%"


def test_the_performance_report_of_one_day_starts_its_curves_at_zero() -> None:
    day = DayActivity(date(2025, 1, 2))
    day.of("binance:BTC/USDT:USDT").funding += Decimal("0.5")
    report = build_performance_report([day], Decimal(500))
    assert dict(report.summary)["annualized return"] == "n/a (less than 7 days)"
    assert set(report.charts) == {"Equity curve", "Drawdown", "Funding vs fees", "Per-symbol contribution"}
