"""``arbx status | positions | pnl | trades``: what arbx is doing, as a readable table or ``--json`` for scripts.

Read-only and short transactions: they work while ``arbx run`` runs, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.rpc import tables, views
from arbx_pipelines.rpc.context import rpc_context

MAX_DAYS = 3650
MAX_LIMIT = 1000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    status = sub.add_parser("status", help="mode, venues, kill switch, breaker, daemon, snapshot age, today's P&L")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    positions = sub.add_parser("positions", help="open positions (all with --all), marked at the last price")
    positions.add_argument("--all", action="store_true", help="closed positions too")
    positions.add_argument("--json", action="store_true", help="print JSON")
    positions.set_defaults(handler=_positions)
    pnl = sub.add_parser("pnl", help="P&L per UTC day and in total: realized, funding, fees, unrealized")
    pnl.add_argument("--days", type=int, default=7, help=f"days back from today, 1..{MAX_DAYS} (default 7)")
    pnl.add_argument("--json", action="store_true", help="print JSON")
    pnl.set_defaults(handler=_pnl)
    trades = sub.add_parser("trades", help="the newest executions with their orders and outcome")
    trades.add_argument("--limit", type=int, default=20, help=f"how many executions, 1..{MAX_LIMIT} (default 20)")
    trades.add_argument("--json", action="store_true", help="print JSON")
    trades.set_defaults(handler=_trades)


def _print(args: argparse.Namespace, data: Any, text: str) -> int:
    print(json.dumps(data, indent=2) if args.json else text)
    return 0


def _status(args: argparse.Namespace) -> int:
    data = views.status(rpc_context(args.config))
    return _print(args, data, tables.status_text(data))


def _positions(args: argparse.Namespace) -> int:
    data = views.positions(rpc_context(args.config), include_closed=args.all)
    return _print(args, data, tables.positions_text(data))


def _pnl(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= MAX_DAYS:
        raise CliError(f"--days must be between 1 and {MAX_DAYS}, got {args.days}")
    data = views.pnl(rpc_context(args.config), days=args.days)
    return _print(args, data, tables.pnl_text(data))


def _trades(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_LIMIT:
        raise CliError(f"--limit must be between 1 and {MAX_LIMIT}, got {args.limit}")
    data = views.trades(rpc_context(args.config), limit=args.limit)
    return _print(args, data, tables.trades_text(data))
