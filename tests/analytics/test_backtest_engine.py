"""The backtest engine: funding identities, timing, costs, and the live rules asked only where they matter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from arbx_pipelines.core.backtest.data import BacktestInputError, Settlement, build_series, select_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.params import BacktestParams, ParamError, parse_params
from tests.analytics.synthetic import START, ar_rates, prices, settlements

NO_COSTS = BacktestParams(spot_fee=0.0, perp_fee=0.0, spread_bps=0.0, slippage_bps=0.0, forecast=False)


def test_carry_income_is_notional_times_sum_of_rates() -> None:
    rates = ar_rates(900, seed=3) + ar_rates(400, seed=4, mean=-0.0002)
    records = settlements(rates[:900]) + settlements(rates[900:], symbol="ETH/USDT:USDT", hours=4)
    result = run_backtest(build_series(records), "carry", BacktestParams(capital=500, notional=250))
    expected = Decimal(250) * sum((Decimal(repr(r)) for r in rates), Decimal(0))
    income = Decimal(repr(result.total()["funding_income"]))
    assert abs(income - expected) / abs(expected) < Decimal("1e-9")
    by_symbol = result.by_symbol()
    eth = by_symbol["binance:ETH/USDT:USDT"]
    assert eth["funding_income"] == pytest.approx(250 * sum(rates[900:]), rel=1e-12)
    assert eth["round_trips"] == 1
    # each settlement annualizes with its own interval: 4h settlements count 2190 times a year
    assert eth["mean_annualized_rate"] == pytest.approx(np.mean(rates[900:]) * 2190, rel=1e-12)
    assert eth["funding_yield_annualized"] == pytest.approx(np.mean(rates[900:]) * 2190, rel=1e-12)


def test_carry_costs_and_default_notional() -> None:
    records = settlements([0.0001] * 30) + settlements([0.0002] * 30, symbol="ETH/USDT:USDT")
    params = BacktestParams(capital=1000, spot_fee=0.001, perp_fee=0.0005, spread_bps=2, slippage_bps=3)
    result = run_backtest(build_series(records), "carry", params)
    assert result.notional == pytest.approx(1000 / (2 * 2))  # two symbols, margin = notional at leverage 1
    total = result.total()
    assert total["fees"] == pytest.approx(2 * 2 * 250 * 0.0015)  # two symbols x (entry + exit) x both legs
    assert total["spread_cost"] == pytest.approx(2 * 2 * 250 * 2 * 2e-4)
    assert total["slippage_cost"] == pytest.approx(2 * 2 * 250 * 2 * 3e-4)
    assert total["net_pnl"] == pytest.approx(
        total["funding_income"] - total["fees"] - total["spread_cost"] - total["slippage_cost"]
    )
    assert total["capital_utilization"] == pytest.approx(1.0)  # both hedges use all capital all the time
    assert result.to_dict()["params"]["notional"] == pytest.approx(250)


def test_carry_with_prices_scales_funding_by_the_price_at_each_settlement() -> None:
    records = settlements([0.001, 0.002, -0.001])
    closes = prices([100.0, 110.0, 90.0])
    result = run_backtest(build_series(records, closes), "carry", replace(NO_COSTS, notional=1000))
    size = 1000 / 100.0  # coins bought at the entry price
    expected = size * (0.001 * 100 + 0.002 * 110 - 0.001 * 90)
    assert result.total()["funding_income"] == pytest.approx(expected, rel=1e-12)
    without = run_backtest(build_series(records), "carry", replace(NO_COSTS, notional=1000))
    assert without.total()["funding_income"] == pytest.approx(1000 * 0.002, rel=1e-12)


def test_threshold_enters_after_a_high_settlement_and_earns_from_the_next() -> None:
    # 8h settlements: 0.0005 = 54.75% a year (above 50%), 0.00005 = 5.5% (below the 10% exit)
    rates = [0.0001, 0.0005, 0.0006, 0.0005, 0.00005, 0.0001, 0.0007, -0.0002, 0.0001]
    params = replace(NO_COSTS, notional=100, spot_fee=0.0001, perp_fee=0.0001)
    result = run_backtest(build_series(settlements(rates)), "threshold", params)
    trades = result.trades()
    assert [t["close_reason"] for t in trades] == ["rate_below_exit", "sign_flipped"]
    assert [t["settlements"] for t in trades] == [3, 1]  # settlements 2-4, then settlement 7
    symbol = result.symbols[0]
    earned = np.flatnonzero(symbol.marks.funding)
    assert earned.tolist() == [2, 3, 4, 7]
    assert result.total()["funding_income"] == pytest.approx(100 * (0.0006 + 0.0005 + 0.00005 - 0.0002))
    assert trades[0]["entry_time"] == (START + timedelta(hours=8)).isoformat()


def test_threshold_respects_break_even_and_max_holding() -> None:
    high = [0.0006] * 60  # 65.7% a year for 20 days
    costly = replace(NO_COSTS, spot_fee=0.004, perp_fee=0.004)  # round trip 1.6% needs 27 settlements > 9 planned
    assert run_backtest(build_series(settlements(high)), "threshold", costly).total()["round_trips"] == 0
    cheap = replace(NO_COSTS, max_holding_days=5)
    trades = run_backtest(build_series(settlements(high)), "threshold", cheap).trades()
    assert trades[0]["close_reason"] == "max_holding"
    assert trades[0]["settlements"] == 15  # 5 days of 8h settlements


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"allow_negative": True},
        {"forecast": False},
        {"profit_target": 0.5, "allow_negative": True, "forecast": False},
        {"entry_annualized": 0.3, "exit_annualized": 0.2, "max_holding_days": 3},
    ],
)
def test_screened_rule_calls_give_the_same_trades_as_asking_at_every_settlement(changes: dict[str, object]) -> None:
    rng = np.random.default_rng(11)
    records = []
    for i in range(4):
        rates = ar_rates(600, seed=20 + i, mean=0.0002, phi=0.9, noise=0.0003)
        records += settlements(rates, symbol=f"C{i}/USDT:USDT", hours=(8, 4, 1, 8)[i])
    closes = []
    for i in range(4):
        path = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, 600)))
        closes += prices(path.tolist(), symbol=f"C{i}/USDT:USDT", hours=(8, 4, 1, 8)[i])
    series = build_series(records, closes)
    params = BacktestParams(**changes)  # type: ignore[arg-type]
    fast = run_backtest(series, "threshold", params)
    slow = run_backtest(series, "threshold", params, exhaustive=True)
    assert fast.total()["round_trips"] > 5
    held = [[(h.entry_index, h.last, h.close_reason, h.leverage) for h in s.held] for s in fast.symbols]
    assert held == [[(h.entry_index, h.last, h.close_reason, h.leverage) for h in s.held] for s in slow.symbols]
    assert fast.diagnostics["rule_calls"] < slow.diagnostics["rule_calls"]


def test_bad_inputs_are_named() -> None:
    with pytest.raises(BacktestInputError, match="two settlements"):
        build_series(settlements([0.1, 0.2]) + settlements([0.3]))
    with pytest.raises(BacktestInputError, match="no price within 8h"):
        build_series(settlements([0.1, 0.2, 0.3]), prices([100.0]))  # only one close at start
    with pytest.raises(BacktestInputError, match="matches no series"):
        select_series(build_series(settlements([0.1])), ["DOGEUSDT"])
    with pytest.raises(ParamError, match="unknown parameter 'entry'"):
        parse_params({"entry": "0.5"})
    with pytest.raises(ParamError, match="expected a number"):
        parse_params({"slippage_bps": "lots"})
    with pytest.raises(ParamError, match="must be below entry_annualized"):
        parse_params({"exit_annualized": "0.9"})
    with pytest.raises(ParamError, match="unknown strategy"):
        run_backtest(build_series(settlements([0.1])), "martingale", BacktestParams())


def test_symbols_match_by_any_spelling() -> None:
    series = build_series(
        settlements([0.1]) + settlements([0.1], venue="okx") + settlements([0.1], symbol="ETH/USDT:USDT")
    )
    assert [s.key for s in select_series(series, ["BTCUSDT"])] == ["binance:BTC/USDT:USDT", "okx:BTC/USDT:USDT"]
    assert [s.key for s in select_series(series, ["okx:BTCUSDT"])] == ["okx:BTC/USDT:USDT"]
    assert [s.key for s in select_series(series, ["ETH/USDT:USDT"])] == ["binance:ETH/USDT:USDT"]


def test_unknown_intervals_come_from_the_spacing_of_settlements() -> None:
    hours = [0, 8, 16, 32, 40, 44, 48, 49]  # 8h, a missing settlement, then 4h and 1h
    records = [Settlement("okx", "X/USDT:USDT", START + timedelta(hours=h), 0.0001, None) for h in hours]
    (series,) = build_series(records)
    assert series.interval_hours.tolist() == [8, 8, 8, 8, 4, 4, 1, 1]
