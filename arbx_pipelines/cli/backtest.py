"""``arbx backtest``: replay recorded funding (and prices) through a strategy and write every metric as JSON.

Files are read with the history importer's parsers (``arbx_pipelines.history.formats``), so every format the
importer accepts can be backtested, with its time zone handled there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.core.backtest.data import (
    BacktestInputError,
    PricePoint,
    Series,
    Settlement,
    attach_prices,
    build_series,
    restrict_period,
    select_series,
)
from arbx_pipelines.core.backtest.engine import run_backtest
from arbx_pipelines.core.backtest.grid import OBJECTIVES, walk_forward
from arbx_pipelines.core.backtest.montecarlo import monte_carlo
from arbx_pipelines.core.backtest.params import (
    DEFAULT_STRATEGY,
    PARAM_HELP,
    STRATEGIES,
    BacktestParams,
    ParamError,
    parse_params,
    split_param,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = "\n".join(f"  {key:<22} {text}" for key, text in PARAM_HELP.items())
    parser = sub.add_parser(
        "backtest",
        help="backtest a funding strategy on recorded history",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Replay funding settlements (and prices) through a strategy; write all metrics as JSON.",
        epilog=f"--param keys:\n{keys}",
    )
    parser.add_argument(
        "--funding", required=True, type=Path, nargs="+", metavar="FILE", help="funding history file(s), any format"
    )
    parser.add_argument(
        "--prices",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="price file(s): a spot series (BTC/USDT) and a perp series (BTC/USDT:USDT); one series marks both legs",
    )
    parser.add_argument(
        "--strategy", help=f"one of: {', '.join(STRATEGIES)} (default {DEFAULT_STRATEGY}; not with --walk-forward)"
    )
    parser.add_argument("--capital", type=float, default=500.0, help="starting capital in USDT (default 500)")
    parser.add_argument(
        "--symbols", nargs="+", action="extend", metavar="SYMBOL", help="BTCUSDT, BTC/USDT:USDT or binance:BTCUSDT"
    )
    parser.add_argument(
        "--param", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="see the keys below"
    )
    parser.add_argument("--start", help="first settlement time to use (ISO date or time, UTC)")
    parser.add_argument("--end", help="settlements before this time (ISO date or time, UTC)")
    parser.add_argument("--json", dest="json_out", help="output file ('-' for standard output)")
    parser.add_argument("--trades", action="store_true", help="also list every round trip in the JSON")
    parser.add_argument(
        "--grid", nargs="+", action="extend", default=[], metavar="KEY=V1,V2", help="walk-forward grid search"
    )
    parser.add_argument("--folds", type=int, default=4, help="walk-forward folds (default 4)")
    parser.add_argument(
        "--walk-forward",
        action="store_true",
        help="print carry vs threshold per out-of-sample fold (threshold tuned on --grid, or a default grid)",
    )
    parser.add_argument("--objective", default="sharpe", help=f"grid objective: {', '.join(OBJECTIVES)}")
    parser.add_argument("--workers", type=int, default=1, help="processes for the grid search (default 1)")
    parser.add_argument("--monte-carlo", type=int, default=0, metavar="PATHS", help="bootstrap paths (default off)")
    parser.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    parser.set_defaults(handler=_backtest)


def load_series(
    funding: Path | list[Path],
    prices: Path | list[Path] | None,
    symbols: list[str] | None,
    start: datetime | None,
    end: datetime | None,
) -> list[Series]:
    """Settlements (and prices) of the chosen symbols and period, read through the history importer."""
    try:
        from arbx_pipelines.history.formats import HistoryFormatError, read_funding, read_prices
    except ImportError as exc:  # pragma: no cover - the importer ships with arbx
        raise CliError(f"the history importer is not installed: {exc}") from exc
    files = funding if isinstance(funding, list) else [funding]
    price_files = [] if prices is None else prices if isinstance(prices, list) else [prices]
    for label, path in [*(("--funding", f) for f in files), *(("--prices", p) for p in price_files)]:
        if not path.is_file():
            raise CliError(f"{label} {path}: no such file")
    try:
        records = [record for path in files for record in read_funding(path)]
        closes = [c for path in price_files for c in read_prices(path)] if price_files else None
    except HistoryFormatError as exc:
        raise CliError(str(exc)) from exc
    settlements = [Settlement(r.venue, r.symbol, r.funding_time, r.rate, r.interval_hours) for r in records]
    if not settlements:
        raise CliError(f"--funding {' '.join(map(str, files))}: no funding settlements")
    try:
        series = select_series(build_series(settlements), symbols)
        series = restrict_period(series, start, end)
        if not series:
            raise CliError("no settlements of the chosen symbols fall between --start and --end")
        if closes is not None:
            attach_prices(series, [PricePoint(p.venue, p.symbol, p.time, p.close) for p in closes])
    except BacktestInputError as exc:
        raise CliError(str(exc)) from exc
    return series


def _backtest(args: argparse.Namespace) -> int:
    if args.walk_forward:
        return _walk_forward(args)
    args.strategy = args.strategy or DEFAULT_STRATEGY
    if args.strategy not in STRATEGIES:
        raise CliError(f"--strategy {args.strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if not args.json_out:
        raise CliError("--json FILE is required (or --walk-forward to print the fold table)")
    try:
        params = parse_params(dict(split_param(p) for p in args.param), BacktestParams(capital=args.capital))
        grid = _grid(args.grid, params)
    except ParamError as exc:
        raise CliError(str(exc)) from exc
    start, end = _time(args.start, "--start"), _time(args.end, "--end")
    series = load_series(args.funding, args.prices, args.symbols, start, end)
    try:
        result = run_backtest(series, args.strategy, params)
        output = result.to_dict(include_trades=args.trades)
        if grid:
            output["walk_forward"] = walk_forward(
                series, args.strategy, params, grid, folds=args.folds, objective=args.objective, workers=args.workers
            ).to_dict()
        if args.monte_carlo:
            paths = monte_carlo(series, args.strategy, params, paths=args.monte_carlo, seed=args.seed)
            output["monte_carlo"] = paths.summary()
    except (ParamError, BacktestInputError) as exc:
        raise CliError(str(exc)) from exc
    output["inputs"] = {
        "funding": [str(f) for f in args.funding],
        "prices": None if args.prices is None else [str(p) for p in args.prices],
    }
    text = json.dumps(finite(output), indent=2, sort_keys=False)
    if args.json_out == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
        total = output["total"]
        print(
            f"{args.strategy}: {len(series)} symbols, {total['settlements']} settlements, "
            f"funding {total['funding_income']:.4f}, costs {total['trading_costs']:.4f}, "
            f"annualized {total['annualized_return']:.2%}, sharpe {total['sharpe']:.2f}, "
            f"max drawdown {total['max_drawdown']:.2%} -> {args.json_out}"
        )
    return 0


def _walk_forward(args: argparse.Namespace) -> int:
    """Carry vs threshold per out-of-sample fold, printed as a table (and written as JSON with --json)."""
    from arbx_pipelines.core.backtest.evidence import DEFAULT_GRID, carry_vs_threshold, format_table

    if args.strategy not in (None, "threshold"):
        raise CliError("--walk-forward compares carry with threshold: leave out --strategy (or give threshold)")
    try:
        params = parse_params(dict(split_param(p) for p in args.param), BacktestParams(capital=args.capital))
        grid = _grid(args.grid, params) if args.grid else [dict(point) for point in DEFAULT_GRID]
        if not args.grid:
            for point in grid:
                parse_params({k: str(v) for k, v in point.items()}, params)
    except ParamError as exc:
        raise CliError(str(exc)) from exc
    series = load_series(
        args.funding, args.prices, args.symbols, _time(args.start, "--start"), _time(args.end, "--end")
    )
    try:
        comparison = carry_vs_threshold(
            series, params, grid, folds=args.folds, objective=args.objective, workers=args.workers
        )
    except (ParamError, BacktestInputError) as exc:
        raise CliError(str(exc)) from exc
    print(f"walk-forward, {args.folds} folds, threshold tuned by {args.objective} on each training window:")
    print(format_table(comparison))
    if args.json_out:
        text = json.dumps(finite(comparison), indent=2)
        if args.json_out == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 0


def _grid(specs: list[str], base: BacktestParams) -> list[dict[str, Any]]:
    """Every combination of the ``--grid`` values, each validated together with ``--param`` (``base``)."""
    from arbx_pipelines.core.backtest.grid import expand_grid

    space: dict[str, list[str]] = {}
    for spec in specs:
        key, raw = split_param(spec)
        space[key] = [v.strip() for v in raw.split(",") if v.strip()]
    grid = []
    for combo in expand_grid(space) if space else []:
        try:
            checked = parse_params(combo, base).as_dict()
        except ParamError as exc:
            shown = " ".join(f"{k}={v}" for k, v in combo.items())
            raise ParamError(f"--grid point {shown}: {exc}") from exc
        grid.append({key: checked[key] for key in combo})
    return grid


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{option} {text!r}: expected an ISO date or time such as 2023-01-01") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def finite(value: Any) -> Any:
    """The same structure with NaN and infinities as null, so the JSON stays standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value
