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
    parser.add_argument("--prices", type=Path, help="price history file; without it the hedge notional is constant")
    parser.add_argument("--strategy", required=True, help=f"one of: {', '.join(STRATEGIES)}")
    parser.add_argument("--capital", type=float, default=500.0, help="starting capital in USDT (default 500)")
    parser.add_argument(
        "--symbols", nargs="+", action="extend", metavar="SYMBOL", help="BTCUSDT, BTC/USDT:USDT or binance:BTCUSDT"
    )
    parser.add_argument(
        "--param", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="see the keys below"
    )
    parser.add_argument("--start", help="first settlement time to use (ISO date or time, UTC)")
    parser.add_argument("--end", help="settlements before this time (ISO date or time, UTC)")
    parser.add_argument("--json", required=True, dest="json_out", help="output file ('-' for standard output)")
    parser.add_argument("--trades", action="store_true", help="also list every round trip in the JSON")
    parser.add_argument(
        "--grid", nargs="+", action="extend", default=[], metavar="KEY=V1,V2", help="walk-forward grid search"
    )
    parser.add_argument("--folds", type=int, default=4, help="walk-forward folds (default 4)")
    parser.add_argument("--objective", default="sharpe", help=f"grid objective: {', '.join(OBJECTIVES)}")
    parser.add_argument("--workers", type=int, default=1, help="processes for the grid search (default 1)")
    parser.add_argument("--monte-carlo", type=int, default=0, metavar="PATHS", help="bootstrap paths (default off)")
    parser.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    parser.set_defaults(handler=_backtest)


def load_series(
    funding: Path | list[Path],
    prices: Path | None,
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
    for label, path in [*(("--funding", f) for f in files), ("--prices", prices)]:
        if path is not None and not path.is_file():
            raise CliError(f"{label} {path}: no such file")
    try:
        records = [record for path in files for record in read_funding(path)]
        closes = read_prices(prices) if prices is not None else None
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
    if args.strategy not in STRATEGIES:
        raise CliError(f"--strategy {args.strategy!r}: choose one of {', '.join(STRATEGIES)}")
    try:
        params = parse_params(dict(split_param(p) for p in args.param), BacktestParams(capital=args.capital))
        grid = _grid(args.grid)
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
        "prices": None if args.prices is None else str(args.prices),
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


def _grid(specs: list[str]) -> list[dict[str, Any]]:
    from arbx_pipelines.core.backtest.grid import expand_grid

    space: dict[str, list[Any]] = {}
    for spec in specs:
        key, raw = split_param(spec)
        values = [parse_params({key: v}).as_dict()[key] for v in raw.split(",") if v.strip()]
        space[key] = values
    return expand_grid(space) if space else []


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
