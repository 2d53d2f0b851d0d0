"""``arbx forecast``: out-of-sample accuracy of the funding forecasts on recorded history, per symbol.

Holds back the last months of the file, fits the per-symbol ARIMA and the pooled feature regression on the rest,
and prints MAE/RMSE of each against the naive last-value forecast (JSON with every figure via ``--json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from arbx_pipelines.cli.backtest import finite, load_series
from arbx_pipelines.cli.main import CliError
from arbx_pipelines.core.forecast.accuracy import evaluate_forecasts
from arbx_pipelines.core.forecast.arima import METHODS, ForecastError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("forecast", help="forecast accuracy vs the naive forecast on held-back months")
    parser.add_argument(
        "--funding", required=True, type=Path, nargs="+", metavar="FILE", help="funding history file(s), any format"
    )
    parser.add_argument("--prices", type=Path, help="price history file (adds the volatility feature)")
    parser.add_argument("--symbols", nargs="+", metavar="SYMBOL", help="BTCUSDT, BTC/USDT:USDT or binance:BTCUSDT")
    parser.add_argument("--holdout-months", type=int, default=3, help="calendar months held back (default 3)")
    parser.add_argument("--order", default="1,0,1", help="ARIMA order p,d,q with d = 0 (default 1,0,1)")
    parser.add_argument("--method", default="hannan_rissanen", help=f"ARIMA estimator: {', '.join(METHODS)}")
    parser.add_argument("--workers", type=int, default=1, help="processes for the ARIMA fits (default 1)")
    parser.add_argument("--json", dest="json_out", help="write every figure to this file")
    parser.set_defaults(handler=_forecast)


def _order(text: str) -> tuple[int, int, int]:
    try:
        p, d, q = (int(part) for part in text.split(","))
    except ValueError as exc:
        raise CliError(f"--order {text!r}: expected three whole numbers p,d,q such as 1,0,1") from exc
    return p, d, q


def _forecast(args: argparse.Namespace) -> int:
    order = _order(args.order)
    series = load_series(args.funding, args.prices, args.symbols, None, None)
    try:
        report = evaluate_forecasts(
            series, holdout_months=args.holdout_months, order=order, method=args.method, workers=args.workers
        )
    except ForecastError as exc:
        raise CliError(str(exc)) from exc
    print(f"held back from {report.cutoff} to {report.end}; features: {', '.join(report.features)}")
    print(f"{'symbol':<28} {'test':>5} {'naive MAE':>10} {'ARIMA MAE':>10} {'skill':>7} {'regr MAE':>10} {'skill':>7}")
    for item in report.symbols:
        reg_mae = f"{item.regression.mae:10.4f}" if item.regression else f"{'-':>10}"
        reg_skill = f"{item.regression_skill:7.1%}" if item.regression_skill is not None else f"{'-':>7}"
        print(
            f"{item.key:<28} {item.test_settlements:>5} {item.naive.mae:10.4f} {item.arima.mae:10.4f} "
            f"{item.arima_skill:7.1%} {reg_mae} {reg_skill}"
        )
    for key, why in report.skipped.items():
        print(f"{key:<28} skipped: {why}")
    summary = report.summary()
    if report.symbols:
        print(
            f"ARIMA beats naive on {summary['arima_beats_naive']}/{summary['symbols']} symbols, "
            f"regression on {summary['regression_beats_naive']}/{summary['symbols']} (errors: annualized rate)"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(finite(report.to_dict()), indent=2) + "\n", encoding="utf-8")
    return 0
