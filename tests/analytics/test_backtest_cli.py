"""``arbx backtest`` end to end: files read by the history importer, JSON written, bad input named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.history import formats

START = datetime(2024, 3, 1, tzinfo=UTC)
RATES = {
    "BTC/USDT:USDT": [Decimal("0.0001"), Decimal("0.00025"), Decimal("-0.00005"), Decimal("0.0006")] * 30,
    "ETH/USDT:USDT": [Decimal("0.0002"), Decimal("0.0007"), Decimal("0.0009"), Decimal("0.00001")] * 30,
}


def _write(tmp_path: Path) -> tuple[Path, Path]:
    funding = tmp_path / "funding.csv"
    prices = tmp_path / "prices.csv"
    lines = ["venue,symbol,funding_time,rate,interval_hours"]
    closes = ["venue,symbol,time,close"]
    for symbol, rates in RATES.items():
        for i, rate in enumerate(rates):
            when = (START + timedelta(hours=8 * i)).isoformat()
            lines.append(f"binance,{symbol},{when},{rate},8")
            closes.append(f"binance,{symbol},{when},{100 + i}")
    funding.write_text("\n".join(lines) + "\n")
    prices.write_text("\n".join(closes) + "\n")
    return funding, prices


def _run(*argv: str) -> int:
    return main(["backtest", *argv])


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_carry_json_holds_every_metric_and_the_notional(tmp_path: Path) -> None:
    funding, _ = _write(tmp_path)
    out = tmp_path / "out.json"
    assert _run("--funding", str(funding), "--strategy", "carry", "--capital", "500", "--json", str(out)) == 0
    data = _load(out)
    assert data["params"]["notional"] == pytest.approx(125)  # 500 over two hedges, each spot + 1x margin
    for section in [data["total"], *data["by_symbol"].values()]:
        for key in ("funding_income", "fees", "annualized_return", "sharpe", "max_drawdown", "round_trips"):
            assert key in section
    expected = Decimal(125) * sum(sum(rates) for rates in RATES.values())
    assert abs(Decimal(repr(data["total"]["funding_income"])) - expected) / expected < Decimal("1e-9")
    assert set(data["by_symbol"]) == {"binance:BTC/USDT:USDT", "binance:ETH/USDT:USDT"}


def test_prices_scale_funding_and_params_apply(tmp_path: Path) -> None:
    funding, prices = _write(tmp_path)
    out = tmp_path / "out.json"
    argv = ["--funding", str(funding), "--prices", str(prices), "--strategy", "threshold", "--symbols", "ETHUSDT"]
    argv += ["--param", "notional=100", "entry_annualized=0.5", "--param", "entry_annualized=0.6"]
    argv += ["--trades", "--json", str(out)]
    assert _run(*argv) == 0
    data = _load(out)
    assert data["symbols"] == ["binance:ETH/USDT:USDT"]
    assert data["params"]["notional"] == 100 and data["params"]["entry_annualized"] == 0.6
    assert data["total"]["round_trips"] == len(data["trades"]) > 0
    carry_out = tmp_path / "carry.json"
    _run("--funding", str(funding), "--prices", str(prices), "--strategy", "carry", "--symbols", "ETHUSDT",
         "--param", "notional=100", "--json", str(carry_out))  # fmt: skip
    rates = RATES["ETH/USDT:USDT"]
    size = 100 / 100  # bought at the first settlement's price, 100
    expected = sum(float(r) * size * (100 + i) for i, r in enumerate(rates))
    assert _load(carry_out)["total"]["funding_income"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--strategy", "momentum"], "--strategy 'momentum'"),
        (["--strategy", "carry", "--param", "entry=1"], "unknown parameter 'entry'"),
        (["--strategy", "carry", "--param", "slippage_bps=x"], "expected a number"),
        (["--strategy", "carry", "--param", "notional"], "expected key=value"),
        (["--strategy", "carry", "--symbols", "DOGEUSDT"], "'DOGEUSDT' matches no series"),
        (["--strategy", "carry", "--prices", "missing.csv"], "--prices missing.csv: no such file"),
        (["--strategy", "carry", "--start", "2030-01-01"], "no settlements of the chosen symbols"),
    ],
)
def test_bad_arguments_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    funding, _ = _write(tmp_path)
    assert _run("--funding", str(funding), *argv, "--json", str(tmp_path / "x.json")) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_walk_forward_and_monte_carlo_sections(tmp_path: Path) -> None:
    funding, _ = _write(tmp_path)
    out = tmp_path / "out.json"
    argv = ["--funding", str(funding), "--strategy", "threshold", "--grid", "entry_annualized=0.4,0.8"]
    argv += ["--folds", "2", "--monte-carlo", "5", "--seed", "3", "--json", str(out)]
    assert _run(*argv) == 0
    data = _load(out)
    assert len(data["walk_forward"]["folds"]) == 2
    assert data["monte_carlo"]["paths"] == 5


@pytest.fixture(scope="module")
def all_exchanges(shared_dir: Path) -> Path:
    return shared_dir / "data" / "aha_hh_btc_eth_binance_bybit_okx" / "all_exchanges.csv"


def test_real_carry_income_equals_notional_times_sum_of_settled_rates(all_exchanges: Path, tmp_path: Path) -> None:
    out = tmp_path / "carry.json"
    assert _run("--funding", str(all_exchanges), "--strategy", "carry", "--capital", "500", "--json", str(out)) == 0
    data = _load(out)
    records = formats.read_funding(all_exchanges)
    notional = Decimal(repr(data["params"]["notional"]))
    expected = notional * sum((r.rate for r in records), Decimal(0))
    income = Decimal(repr(data["total"]["funding_income"]))
    assert data["total"]["settlements"] == len(records)
    assert abs(income - expected) / abs(expected) < Decimal("1e-9")


def test_real_binance_btcusdt_2023_annualized_mean_funding(all_exchanges: Path, tmp_path: Path) -> None:
    """7.87 % is the figure published independently for Binance BTCUSDT in 2023 (mean rate x 3 x 365)."""
    out = tmp_path / "btc2023.json"
    argv = ["--funding", str(all_exchanges), "--strategy", "carry", "--symbols", "binance:BTCUSDT"]
    argv += ["--start", "2023-01-01", "--end", "2024-01-01", "--json", str(out)]
    assert _run(*argv) == 0
    btc = _load(out)["by_symbol"]["binance:BTC/USDT:USDT"]
    assert btc["settlements"] == 1095
    assert btc["mean_annualized_rate"] == pytest.approx(0.0787, abs=0.0005)
    assert btc["funding_yield_annualized"] == pytest.approx(0.0787, abs=0.0005)


def test_real_forecast_accuracy_is_reported_per_symbol_on_held_back_months(
    all_exchanges: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "forecast.json"
    argv = ["forecast", "--funding", str(all_exchanges), "--prices", str(all_exchanges), "--json", str(out)]
    assert main(argv) == 0
    report = _load(out)
    assert report["cutoff"] == "2024-04-01T00:00:00+00:00"  # April, May and June 2024 held back
    assert len(report["by_symbol"]) == 12 and not report["skipped"]
    for item in report["by_symbol"].values():
        assert item["test_settlements"] >= 270
        assert item["naive"]["mae"] > 0 and item["arima"]["mae"] > 0 and item["regression"]["mae"] > 0
    # measured: ARIMA(1,0,1) beats the last value on all 12 series, the regression on 10
    assert report["summary"]["arima_beats_naive"] >= 10
    assert "ARIMA beats naive on" in capsys.readouterr().out


def test_bench_backtest_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", "backtest", "--symbols", "3", "--years", "0.3", "--grid-sets", "2"]
    argv += ["--forecast-symbols", "2", "--workers", "1", "--json", str(out)]
    assert main(argv) == 0
    figures = _load(out)
    assert figures["backtest_settlements"] == 3 * int(0.3 * 365 * 3)
    assert figures["grid_sets"] == 2 and figures["forecast_symbols"] == 2
    assert "goal <= 5 s" in capsys.readouterr().out
