"""ARIMA and regression forecasts against the naive last value, and the signals derived from forecasts."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from scipy.signal import lfilter
from statsmodels.tsa.arima.model import ARIMA

from arbx_pipelines.core.allocation import AllocationParams
from arbx_pipelines.core.backtest.data import build_series, to_epoch_seconds
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.forecast.accuracy import evaluate_forecasts, holdout_cutoff
from arbx_pipelines.core.forecast.allocation import allocate_ranked
from arbx_pipelines.core.forecast.arima import fit_arma, forecast, one_step_predictions
from arbx_pipelines.core.forecast.outlook import OutlookSettings, outlooks
from arbx_pipelines.core.forecast.signals import anomaly, dynamic_leverage, optimal_holding, persistence
from tests.analytics.synthetic import ar_rates, prices, settlements


def _arma(n: int, seed: int, phi: float = 0.7, theta: float = 0.3) -> np.ndarray:
    shocks = np.random.default_rng(seed).normal(0, 0.2, n)
    return 0.1 + lfilter([1, theta], [1, -phi], shocks)


def test_fit_recovers_the_process_and_predicts_like_statsmodels() -> None:
    values = _arma(3000, seed=1)
    fit = fit_arma(values)
    assert fit.ar[0] == pytest.approx(0.7, abs=0.05)
    assert fit.ma[0] == pytest.approx(0.3, abs=0.07)
    params = np.r_[fit.mean, fit.ar, fit.ma, fit.sigma2]
    reference = ARIMA(values, order=(1, 0, 1), trend="c").filter(params)
    ours = one_step_predictions(fit, values)
    assert np.max(np.abs(ours[50:] - reference.predict()[50:])) < 1e-9
    assert forecast(fit, values, 6) == pytest.approx(reference.forecast(6), abs=1e-9)
    mle = fit_arma(values[:800], method="mle")
    assert mle.ar[0] == pytest.approx(0.7, abs=0.1)


def test_holdout_cutoff_counts_calendar_months() -> None:
    end = to_epoch_seconds(datetime(2024, 7, 1, tzinfo=UTC))
    assert holdout_cutoff(end, 3) == to_epoch_seconds(datetime(2024, 4, 1, tzinfo=UTC))
    mid = to_epoch_seconds(datetime(2024, 7, 20, 8, tzinfo=UTC))
    assert holdout_cutoff(mid, 1) == to_epoch_seconds(datetime(2024, 7, 1, tzinfo=UTC))
    assert holdout_cutoff(mid, 8) == to_epoch_seconds(datetime(2023, 12, 1, tzinfo=UTC))


def test_models_beat_the_naive_forecast_on_a_mean_reverting_process() -> None:
    records, closes = [], []
    rng = np.random.default_rng(5)
    for i in range(6):
        rates = ar_rates(1400, seed=100 + i, mean=0.0001, phi=0.5, noise=0.0002)
        records += settlements(rates, symbol=f"C{i}/USDT:USDT")
        closes += prices((100 * np.exp(np.cumsum(rng.normal(0, 0.01, 1400)))).tolist(), symbol=f"C{i}/USDT:USDT")
    report = evaluate_forecasts(build_series(records, closes), holdout_months=3)
    assert report.features == ("last_rate", "mean_rate_3", "mean_rate_9", "market_mean_rate", "price_volatility")
    assert len(report.symbols) == 6 and not report.skipped
    # 1400 settlements from 2024-01-01 end on 2025-04-11: February, March and April 2025 are held back
    assert report.cutoff == "2025-02-01T00:00:00+00:00"
    for item in report.symbols:
        assert (item.train_settlements, item.test_settlements) == (1191, 209)
        assert item.arima.mae < item.naive.mae
        assert item.regression is not None and item.regression.mae < item.naive.mae
    assert report.summary()["arima_beats_naive"] == 6
    for item in report.symbols:
        assert item.regression_fit is not None
        assert item.regression_fit.coefficients["last_rate"] == pytest.approx(0.5, abs=0.15)


def test_persistence_anomaly_and_leverage_rules() -> None:
    ups = np.array([0.6, 0.6, 0.6, 0.0, 0.6, 0.6, 0.0, 0.6])  # above 50%: 5 of 6 transitions from above stay?
    result = persistence(ups, 0.5, 8)
    # transitions from above: 0.6->0.6 (x3), 0.6->0.0 (x2): p = (3 + 1) / (5 + 2)
    assert result.probability == pytest.approx(4 / 7)
    assert result.expected_hours == pytest.approx(8 * (4 / 7) / (3 / 7))
    calm = np.random.default_rng(2).normal(0.1, 0.01, 200)
    assert not anomaly(calm, None).paused
    spiked = np.r_[calm, 0.5]
    flags = anomaly(spiked, None)
    assert flags.paused and flags.funding_z is not None and flags.funding_z > 3
    assert dynamic_leverage(None, 72) == 1
    assert dynamic_leverage(0.0, 72) == math.floor(1 / 0.205)  # no volatility: only the 20% tier binds
    assert dynamic_leverage(0.03, 72) == 2  # 3 sigma over 3 days = 15.6% -> needs 39% distance
    assert dynamic_leverage(0.10, 336) == 1
    assert dynamic_leverage(0.0, 72, max_leverage=2) == 2


def test_optimal_holding_stops_where_the_forecast_falls_below_exit() -> None:
    path = np.array([0.8, 0.6, 0.4, 0.2, 0.05, 0.3])
    holding = optimal_holding(path, 1, 8, exit_annualized=0.1, max_holding_hours=14 * 24, round_trip_cost=0.001)
    assert holding.settlements == 4 and holding.hours == 32
    assert holding.expected_funding_rate == pytest.approx((0.8 + 0.6 + 0.4 + 0.2) * 8 / 8760)
    assert holding.expected_net_rate == pytest.approx(holding.expected_funding_rate - 0.001)
    assert holding.break_even_settlements == math.floor(0.001 / (0.8 * 8 / 8760)) + 1
    capped = optimal_holding(path, 1, 8, exit_annualized=0.1, max_holding_hours=16, round_trip_cost=0.0)
    assert capped.settlements == 2


def test_ranking_and_allocation_respect_limits() -> None:
    records = []
    levels = {"HOT": 0.0012, "WARM": 0.0008, "COLD": 0.00002, "NEG": -0.0012}
    for i, (name, level) in enumerate(levels.items()):
        rates = ar_rates(400, seed=60 + i, mean=level, phi=0.95, noise=0.00003)
        records += settlements(rates, symbol=f"{name}/USDT:USDT", venue="okx" if name == "WARM" else "binance")
    ranked, skipped = outlooks(build_series(records), OutlookSettings(strategy=BacktestParams()))
    assert not skipped
    by_symbol = {o.symbol: o for o in ranked}
    assert by_symbol["HOT/USDT:USDT"].eligible and by_symbol["WARM/USDT:USDT"].eligible
    assert by_symbol["COLD/USDT:USDT"].reason == "below_threshold"  # the live decide_entry's own reason
    assert by_symbol["NEG/USDT:USDT"].reason == "no_inventory_for_negative_funding"
    assert [o.symbol for o in ranked[:2]] == ["HOT/USDT:USDT", "WARM/USDT:USDT"]  # best score first
    params = AllocationParams(max_trade_usdt=Decimal(150))
    plan = allocate_ranked(ranked, Decimal(500), params)
    assert {a.symbol for a in plan.allocations} == {"HOT/USDT:USDT", "WARM/USDT:USDT"}
    for item in plan.allocations:
        assert item.notional <= 150
        assert item.leverage == by_symbol[item.symbol].leverage
        assert item.capital == item.notional * (1 + Decimal(1) / item.leverage)
    assert plan.allocated <= Decimal(500) * Decimal("0.75")
    assert plan.skipped["binance:COLD/USDT:USDT"] == "below_threshold"
    # capital already deployed in HOT's coin counts against its 60 % coin cap
    crowded = allocate_ranked(ranked, Decimal(500), params, used_by_coin={"HOT": Decimal(295)}, used_total=Decimal(295))
    assert [a.symbol for a in crowded.allocations] == ["WARM/USDT:USDT"]
    assert (
        crowded.skipped["binance:HOT/USDT:USDT"].startswith("below_min_trade")
        or "coin_cap" in crowded.skipped["binance:HOT/USDT:USDT"]
    )
