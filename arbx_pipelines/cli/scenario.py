"""``arbx scenario funding-spike [--json]``: run the whole funding path on the simulated venues and summarize it
(simulator on a free port, temporary database and Dagster instance; nothing outside this machine is touched)."""

from __future__ import annotations

import argparse
import json

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.logs import configure_logging


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    scenario = sub.add_parser("scenario", help="end-to-end scenarios on the simulated venues")
    scenario_sub = scenario.add_subparsers(dest="scenario_name", metavar="SCENARIO", required=True)
    spike = scenario_sub.add_parser("funding-spike", help="spike -> hedge -> funding -> exit, through Dagster")
    spike.add_argument("--json", action="store_true", help="print the summary as JSON")
    spike.add_argument("--symbol", default="DOGE/USDT:USDT", help="perpetual to spike (default DOGE/USDT:USDT)")
    spike.add_argument("--venue", default="binance", help="simulated venue (default binance)")
    spike.add_argument("--settlements", type=int, default=3, help="funding settlements to hold through")
    spike.set_defaults(handler=_funding_spike)


def _funding_spike(args: argparse.Namespace) -> int:
    from arbx_pipelines.scenarios.funding_spike import ScenarioSettings, run_funding_spike

    if args.settlements < 1:
        raise CliError(f"--settlements must be at least 1, got {args.settlements}")
    if args.log_level is None:  # the summary is the output; events only on request (--log-level INFO)
        configure_logging("WARNING", args.log_format)
    level = (args.log_level or "WARNING").upper()
    try:
        summary = run_funding_spike(ScenarioSettings(args.venue, args.symbol, args.settlements, log_level=level))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    opened, closed = summary["position"], summary["position_after_close"]
    print(f"funding spike on {summary['venue']} {summary['symbol']}: {len(summary['orders'])} orders")
    for order in summary["orders"]:
        print(
            f"  {order['leg']:<14} {order['side']:<4} {order['amount']:>12} {order['symbol']:<16} "
            f"{order['status']:<8} {order['client_order_id']}"
        )
    print(f"position {opened['id']} opened: perp {opened['perp_amount']} / spot {opened['spot_amount']}")
    print(
        f"position {closed['id']} after the close: {closed['status']} ({closed['close_reason'] or 'no reason'}); "
        f"perp {closed['perp_amount']} / spot {closed['spot_amount']}"
    )
    print(
        f"funding received {summary['funding_received']} over {summary['settlements']} settlements; "
        f"fees {summary['fees']}; realized P&L {summary['pnl']} (account change {summary['account_change']})"
    )
    return 0
