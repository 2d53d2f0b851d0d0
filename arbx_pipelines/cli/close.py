"""``arbx close POSITION_ID | --all [--reason TEXT] [--yes]``: close hedges by hand, through the ``close_position``
job (the running daemon launches it when ``arbx run`` is up, else it runs here)."""

from __future__ import annotations

import argparse
import json
import sys

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.rpc import tables
from arbx_pipelines.rpc.context import rpc_context
from arbx_pipelines.rpc.steering import RpcError, closable_position, close_position, open_positions
from arbx_pipelines.storage.views import PositionRecord


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    close = sub.add_parser("close", help="close a position (or every open one) on both legs")
    close.add_argument("position_id", nargs="?", type=int, metavar="POSITION_ID", help="the id arbx positions shows")
    close.add_argument("--all", action="store_true", help="close every open position")
    close.add_argument("--reason", default="", help="why (recorded as the close reason)")
    close.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    close.add_argument("--json", action="store_true", help="print JSON")
    close.set_defaults(handler=_close)


def _confirm(rows: list[PositionRecord]) -> None:
    names = ", ".join(f"{r.id} ({r.venue} {r.symbol})" for r in rows)
    if not sys.stdin.isatty():
        raise CliError(f"closing {names} needs --yes when not asked on a terminal")
    answer = input(f"close {names}? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CliError("nothing closed (not confirmed)")


def _close(args: argparse.Namespace) -> int:
    if (args.position_id is None) == (not args.all):
        raise CliError("give one POSITION_ID or --all (not both)")
    if len(args.reason) > 64:
        raise CliError(f"--reason is {len(args.reason)} characters; at most 64")
    ctx = rpc_context(args.config)
    try:
        rows = open_positions(ctx) if args.all else [closable_position(ctx, args.position_id)]
    except RpcError as exc:
        raise CliError(str(exc)) from exc
    if not rows:
        print("no open positions")
        return 0
    if not args.yes:
        _confirm(rows)
    answers = []
    for row in rows:
        try:
            answers.append(close_position(ctx, row.id, args.reason))
        except RpcError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(answers, indent=2))
    else:
        for answer in answers:
            print(tables.close_text(answer))
    return 0 if all(a["status"] in ("closed", "submitted") for a in answers) else 1
