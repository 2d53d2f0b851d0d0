"""``arbx bench backtest``: the three analytics figures of issue 6, on synthetic data generated in memory.

1. Backtest of 100 symbols x 3 years of 8-hour funding plus spot and perp prices (both legs marked at every
   settlement, margin rules applied), ``carry`` and ``threshold`` with the forecasts (goal <= 5 s), from plain
   settlement records (what the CLI hands over after parsing) to the metrics JSON.
2. A 100-set parameter grid of ``threshold`` on the same data in worker processes (goal <= 60 s on 2 cores).
3. ARIMA forecasts (with the ranking signals) for 300 symbols in worker processes (goal <= 60 s), and the
   out-of-sample accuracy check of ARIMA and the regression against the naive forecast on the same symbols.

The synthetic funding follows the shape of real USDT perpetuals: a floor near 0.01 % per 8h with small
mean-reverting noise, and occasional hot regimes far above the 50 %-a-year entry threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy.signal import lfilter

from arbx_pipelines.core.backtest.data import PricePoint, Series, Settlement, build_series, make_series
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.grid import expand_grid, run_grid
from arbx_pipelines.core.backtest.params import BacktestParams
from arbx_pipelines.core.forecast.accuracy import evaluate_forecasts
from arbx_pipelines.core.forecast.outlook import OutlookSettings, outlooks

BACKTEST_GOAL_S = 5.0
GRID_GOAL_S = 60.0
ARIMA_GOAL_S = 60.0
START = datetime(2022, 1, 1, tzinfo=UTC)


def synthetic_arrays(symbols: int, settlements: int, seed: int) -> list[Series]:
    """Funding and price arrays of ``symbols`` perpetuals with 8-hour settlements."""
    rng = np.random.default_rng(seed)
    times = int(START.timestamp()) + np.arange(settlements, dtype=np.int64) * 8 * 3600
    out = []
    for i in range(symbols):
        hot = np.zeros(settlements, dtype=bool)
        state = False
        switches = rng.random(settlements)
        for k in range(settlements):
            state = switches[k] < (0.9 if state else 0.01)  # hot spells of ~10 settlements, ~1 % of the time
            hot[k] = state
        level = np.where(hot, rng.uniform(0.0006, 0.002), 0.0001)
        noise = lfilter([1.0], [1.0, -0.7], rng.normal(0.0, 0.00004, settlements))
        rates = level + noise * np.where(hot, 5.0, 1.0)
        item = make_series("binance", f"S{i:03d}/USDT:USDT", times, rates, np.full(settlements, 8.0))
        item.prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03 / np.sqrt(3), settlements)))
        item.perp_prices = item.prices * (1 + lfilter([1.0], [1.0, -0.9], rng.normal(0.0, 0.0002, settlements)))
        out.append(item)
    return out


def as_records(series: list[Series]) -> tuple[list[Settlement], list[PricePoint]]:
    settlements, prices = [], []
    for item in series:
        assert item.prices is not None and item.perp_prices is not None
        spot_symbol = item.symbol.split(":")[0]
        columns = zip(
            item.times.tolist(), item.rates.tolist(), item.prices.tolist(), item.perp_prices.tolist(), strict=True
        )
        for t, rate, spot, perp in columns:
            when = datetime.fromtimestamp(t, tz=UTC)
            settlements.append(Settlement(item.venue, item.symbol, when, rate, 8))
            prices.append(PricePoint(item.venue, spot_symbol, when - timedelta(minutes=1), spot))
            prices.append(PricePoint(item.venue, item.symbol, when - timedelta(minutes=1), perp))
    return settlements, prices


def run(args: argparse.Namespace) -> int:
    if min(args.symbols, args.grid_sets, args.forecast_symbols, args.workers) < 1 or args.years <= 0:
        raise ValueError("--symbols, --grid-sets, --forecast-symbols, --workers and --years must be positive")
    settlements = int(args.years * 365 * 3)
    figures: dict[str, float | int] = {"cores": os.cpu_count() or 0, "workers": args.workers}
    print(f"backtest bench ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")

    arrays = synthetic_arrays(args.symbols, settlements, args.seed)
    records, closes = as_records(arrays)
    began = time.perf_counter()
    series = build_series(records, closes)
    built = time.perf_counter()
    carry = run_backtest(series, "carry", BacktestParams()).to_dict()
    carried = time.perf_counter()
    threshold = run_backtest(series, "threshold", BacktestParams()).to_dict()
    done = time.perf_counter()
    figures.update(
        backtest_settlements=len(records),
        backtest_build_s=built - began,
        backtest_carry_s=carried - built,
        backtest_threshold_s=done - carried,
        backtest_total_s=done - began,
        threshold_round_trips=int(threshold["total"]["round_trips"]),
    )
    _line(
        f"1. {args.symbols} symbols x {args.years:g} years of 8h funding + spot and perp prices "
        f"({len(records):,} settlements): "
        f"records -> series {built - began:.2f} s, carry {carried - built:.2f} s, "
        f"threshold {done - carried:.2f} s ({threshold['total']['round_trips']} round trips)",
        done - began,
        BACKTEST_GOAL_S,
    )
    del carry

    grid = _grid(args.grid_sets)
    began, cpu_began = time.perf_counter(), _cpu_seconds()
    points = run_grid(series, "threshold", BacktestParams(), grid, workers=args.workers)[0]
    elapsed, cpu = time.perf_counter() - began, _cpu_seconds() - cpu_began
    best = max(points, key=lambda p: float(p.metrics["sharpe"]))
    figures.update(grid_sets=len(grid), grid_s=elapsed, grid_cpu_s=cpu)
    _line(
        f"2. {len(grid)}-set parameter grid of threshold on the same data, {args.workers} workers, "
        f"{cpu:.1f} s of CPU (best sharpe {best.metrics['sharpe']:.2f} at {best.values})",
        elapsed,
        GRID_GOAL_S,
    )

    many = synthetic_arrays(args.forecast_symbols, settlements, args.seed + 1)
    began = time.perf_counter()
    ranked, skipped = outlooks(many, OutlookSettings(), workers=args.workers)
    elapsed = time.perf_counter() - began
    figures.update(forecast_symbols=len(many), forecast_s=elapsed, forecast_skipped=len(skipped))
    _line(
        f"3. ARIMA(1,0,1) forecasts + signals for {len(many)} symbols, {args.workers} workers "
        f"({len(ranked)} modelled, {len(skipped)} skipped)",
        elapsed,
        ARIMA_GOAL_S,
    )
    began = time.perf_counter()
    accuracy = evaluate_forecasts(many, holdout_months=3, workers=args.workers)
    elapsed = time.perf_counter() - began
    summary = accuracy.summary()
    figures.update(accuracy_s=elapsed, arima_beats_naive=int(summary.get("arima_beats_naive", 0)))
    _line(
        f"   and their out-of-sample check, ARIMA + regression vs naive on 3 held-back months "
        f"(ARIMA better on {summary.get('arima_beats_naive', 0)}/{summary.get('symbols', 0)})",
        elapsed,
        ARIMA_GOAL_S,
    )
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0


def _grid(size: int) -> list[dict[str, float]]:
    """``size`` distinct (entry, exit) threshold pairs, exit below entry."""
    side = int(np.ceil(np.sqrt(size)))
    entries = np.round(np.linspace(0.3, 1.2, side), 4).tolist()
    exits = np.round(np.linspace(0.0, 0.28, side), 4).tolist()
    return expand_grid({"entry_annualized": entries, "exit_annualized": exits})[:size]


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the grid's worker processes, once their pool ends):
    on a shared machine the wall time says how long it took, this what it cost."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _line(text: str, seconds: float, goal: float) -> None:
    verdict = "ok" if seconds <= goal else "OVER GOAL"
    print(f"  {text}: {seconds:.2f} s (goal <= {goal:g} s, {verdict})")
