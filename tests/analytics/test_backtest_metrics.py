"""Metrics on hand-computed series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arbx_pipelines.core.backtest.metrics import (
    daily_pnl,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
    win_rate,
)

DAY = 86_400


def test_max_drawdown_depth_and_duration() -> None:
    times = np.array([0, 1, 2, 3, 4, 5, 6], dtype=np.int64) * DAY
    equity = np.array([100.0, 110.0, 99.0, 104.5, 110.0, 120.0, 114.0])
    dd = max_drawdown(times, equity, end_time=8 * DAY)
    assert dd.max_fraction == pytest.approx(0.1)  # 110 -> 99
    assert dd.peak_time == 1 * DAY and dd.trough_time == 2 * DAY
    # under water from day 1 (peak) to day 4 (back at 110): 3 days; the last fall (day 5 -> end) lasts 3 days too
    assert dd.duration_seconds == 3 * DAY
    longer = max_drawdown(times, equity, end_time=10 * DAY)
    assert longer.duration_seconds == 5 * DAY  # never recovered from the day-5 peak


def test_no_drawdown_on_a_rising_curve() -> None:
    times = np.arange(5, dtype=np.int64) * DAY
    dd = max_drawdown(times, np.linspace(100, 110, 5))
    assert dd.max_fraction == 0 and dd.duration_seconds == 0


def test_sharpe_and_sortino_by_hand() -> None:
    returns = np.array([0.01, -0.005, 0.02, 0.0, -0.01])
    mean = returns.mean()
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 4)
    assert sharpe_ratio(returns) == pytest.approx(mean / std * math.sqrt(365))
    downside = math.sqrt((0.005**2 + 0.01**2) / 5)
    assert sortino_ratio(returns) == pytest.approx(mean / downside * math.sqrt(365))
    assert sharpe_ratio(np.full(10, 0.001)) == 0.0  # no variance: undefined, reported as 0


def test_daily_buckets_and_win_rate() -> None:
    times = np.array([0, 3600, DAY + 5, 3 * DAY], dtype=np.int64)
    out = daily_pnl(times, np.array([1.0, 2.0, -1.0, 4.0]), 0, 3 * DAY + 10)
    assert out.tolist() == [3.0, -1.0, 0.0, 4.0]
    assert win_rate(np.array([1.0, -1.0, 0.0, 2.0])) == 0.5
