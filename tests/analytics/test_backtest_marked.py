"""Both legs marked to market: the backtester against an independent pandas computation on real BTC history
(Binance funding exports + hourly spot and perp closes), and the margin rules on made-up prices."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.core.backtest.data import make_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.params import BacktestParams

DATA = "data/aha_hh_btc_eth_binance_bybit_okx"
FUNDING = "binance_export_BTCUSDT_funding_2019-09-10_2024-08-09.csv"
PRICES = "binance_BTC_basis_hourly_2021-07_2024-07.csv"
START, END = "2022-01-01", "2023-07-01"  # BTC 47k -> 16k -> 30k: the short perp never nears its margin at 1x
SPOT_FEE, PERP_FEE, BPS = 0.001, 0.0005, 1e-4  # Binance taker fees; 1 bp half spread and 1 bp slippage per leg


def independent_carry(shared: Path, capital: float) -> dict[str, float]:
    """A short perp + long spot hedge held from the first funding period to the last settlement, from the
    definitions alone: funding = rate x perp quantity x perp price; both legs marked at every settlement."""
    funding = pd.read_csv(shared / DATA / FUNDING, encoding="utf-8-sig")
    wall = pd.to_datetime(funding["Time"])  # Europe/London wall time; settlements sit on the 8h UTC grid
    local = wall.dt.tz_localize("Europe/London", ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="NaT")
    funding["time"] = local.dt.tz_convert("UTC").dt.round("8h")
    funding["rate"] = funding["Funding Rate"].str.rstrip("%").astype(float) / 100
    funding = funding.sort_values("time")
    funding = funding[(funding["time"] >= START) & (funding["time"] < END)].reset_index(drop=True)
    prices = pd.read_csv(shared / DATA / PRICES)
    prices["time"] = pd.to_datetime(prices["Time"]).dt.tz_localize("UTC") + pd.Timedelta(hours=1)  # bar close
    prices = prices.rename(columns={"BTCUSDT Spot": "spot", "BTCUSDT Future": "perp"})[["time", "spot", "perp"]]
    frame = pd.merge_asof(funding, prices.dropna().sort_values("time"), on="time", direction="backward")
    q = capital / 2 / frame["spot"].iloc[0]  # capital = spot leg + perp margin at 1x
    s0, p0, s1, p1 = frame["spot"].iloc[0], frame["perp"].iloc[0], frame["spot"].iloc[-1], frame["perp"].iloc[-1]
    frame["funding"] = frame["rate"] * q * frame["perp"]
    level = frame["spot"] - frame["perp"]
    frame["basis"] = q * level.diff().fillna(level.iloc[0] - (s0 - p0))
    entry_fees = q * s0 * SPOT_FEE + q * p0 * PERP_FEE
    exit_fees = q * s1 * SPOT_FEE + q * p1 * PERP_FEE
    entry_other = -q * (s0 + p0) * 2 * BPS
    exit_other = -q * (s1 + p1) * 2 * BPS
    opened = frame["time"].iloc[0] - pd.Timedelta(hours=8)
    events = pd.concat(
        [
            pd.Series([-entry_fees + entry_other], index=[opened]),
            pd.Series((frame["funding"] + frame["basis"]).to_numpy(), index=frame["time"]),
            pd.Series([-exit_fees + exit_other], index=[frame["time"].iloc[-1]]),
        ]
    )
    equity = capital + events.cumsum()
    daily = equity.groupby(equity.index.floor("D")).last()
    days = pd.date_range(daily.index[0], daily.index[-1], freq="D")
    daily = daily.reindex(days).ffill()
    returns = daily.pct_change().fillna(daily.iloc[0] / capital - 1)
    fees = entry_fees + exit_fees
    basis = float(frame["basis"].sum())
    income = float(frame["funding"].sum())
    return {
        "funding_income": income,
        "basis_pnl": basis,
        "net_pnl": income - fees + basis + entry_other + exit_other,
        "sharpe": float(returns.mean() / returns.std(ddof=1) * math.sqrt(365)),
    }


@pytest.fixture(scope="module")
def marked_carry(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("marked") / "carry.json"
    argv = ["backtest", "--funding", str(shared_dir / DATA / FUNDING), "--prices", str(shared_dir / DATA / PRICES)]
    argv += ["--strategy", "carry", "--symbols", "BTCUSDT", "--start", START, "--end", END, "--trades"]
    assert main([*argv, "--capital", "500", "--json", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_marked_pnl_agrees_with_an_independent_pandas_computation(
    marked_carry: dict[str, Any], shared_dir: Path
) -> None:
    expected = independent_carry(shared_dir, 500.0)
    total = marked_carry["total"]
    assert total["margin_events"] == 0 and total["liquidations"] == 0
    for key in ("net_pnl", "basis_pnl", "funding_income"):
        assert total[key] == pytest.approx(expected[key], rel=0.005), key
    assert total["sharpe"] == pytest.approx(expected["sharpe"], rel=0.15)
    assert total["basis_pnl"] != 0  # the legs were marked at their own prices


def test_net_pnl_is_exactly_its_parts_and_trades_carry_both_legs(marked_carry: dict[str, Any]) -> None:
    total = marked_carry["total"]
    assert total["net_pnl"] == total["funding_income"] - total["fees"] + total["basis_pnl"] + total["other_pnl"]
    (trade,) = marked_carry["trades"]
    assert trade["direction"] == "short_perp" and trade["adjustments"] == []
    assert trade["spot_entry"] != trade["perp_entry"] and trade["spot_exit"] > 0 and trade["perp_exit"] > 0
    assert trade["pnl"] == pytest.approx(trade["funding"] - trade["fees"] + trade["basis_pnl"] + trade["other_pnl"])
    assert trade["quantity"] == pytest.approx(250 / trade["spot_entry"])


def _rally(factor: float, settlements: int = 60) -> Any:
    """A perp paying 0.01 % per 8h while its price climbs to ``factor`` times the start (spot = perp)."""
    times = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) + np.arange(settlements, dtype=np.int64) * 8 * 3600
    item = make_series("binance", "X/USDT:USDT", times, np.full(settlements, 0.0001), np.full(settlements, 8.0))
    item.prices = np.geomspace(100.0, 100.0 * factor, settlements)
    return item


def test_a_rally_against_the_short_perp_triggers_the_live_reduce_leverage_rule() -> None:
    result = run_backtest([_rally(1.9)], "carry", BacktestParams(capital=1000, leverage=1))
    total = result.total()
    assert total["margin_events"] >= 1 and total["liquidations"] == 0
    trade = result.trades()[0]
    cut = [a for a in trade["adjustments"] if a["quantity_change"] < 0]
    assert cut and cut[0]["quantity_change"] == pytest.approx(-trade["quantity"] / 2)
    assert cut[0]["fees"] > 0
    assert total["net_pnl"] == total["funding_income"] - total["fees"] + total["basis_pnl"] + total["other_pnl"]


def test_a_jump_beyond_the_liquidation_price_books_a_liquidation() -> None:
    item = _rally(1.0, 10)
    assert item.prices is not None
    item.prices[5:] = 100.0 * 1.4  # one jump from far away to beyond a 3x short's liquidation price
    result = run_backtest([item], "carry", BacktestParams(capital=1000, leverage=3))
    total = result.total()
    assert total["liquidations"] == 1
    first = result.trades()[0]
    assert first["close_reason"] == "liquidation"
    q = first["quantity"]
    spread_and_slippage = (q * 100 * 2 + q * 140) * 2 * 1e-4  # both legs in, the spot leg out
    # the perp wallet (margin at 3x and the funding paid into it) is lost whole, the spot leg keeps its gain
    expected = q * 40 - q * 100 / 3 - first["fees"] - spread_and_slippage
    assert first["pnl"] == pytest.approx(expected)
    assert len(result.trades()) == 2  # carry hedges again at once
    assert total["net_pnl"] == total["funding_income"] - total["fees"] + total["basis_pnl"] + total["other_pnl"]


def test_spot_and_perp_series_mark_their_own_legs(tmp_path: Path) -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    funding = ["venue,symbol,funding_time,rate,interval_hours"]
    spot = ["venue,symbol,time,close"]
    perp = ["venue,symbol,time,close"]
    for i in range(30):
        when = (start + timedelta(hours=8 * i)).isoformat()
        funding.append(f"binance,BTC/USDT:USDT,{when},0.0001,8")
        spot.append(f"binance,BTC/USDT,{when},{100 + i}")
        perp.append(f"binance,BTC/USDT:USDT,{when},{100 + 1.5 * i}")
    paths = [tmp_path / name for name in ("f.csv", "s.csv", "p.csv")]
    for path, lines in zip(paths, (funding, spot, perp), strict=True):
        path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.json"
    argv = ["backtest", "--funding", str(paths[0]), "--prices", str(paths[1]), str(paths[2])]
    assert main([*argv, "--strategy", "carry", "--trades", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    trade = data["trades"][0]
    assert (trade["spot_entry"], trade["perp_entry"]) == (100, 100)
    assert (trade["spot_exit"], trade["perp_exit"]) == (129, pytest.approx(143.5))
    # the short perp lost 0.5 per coin more than the spot gained, for every settlement
    assert trade["basis_pnl"] == pytest.approx(-trade["quantity"] * 14.5)
    expected_funding = sum(0.0001 * trade["quantity"] * (100 + 1.5 * i) for i in range(30))
    assert data["total"]["funding_income"] == pytest.approx(expected_funding)
