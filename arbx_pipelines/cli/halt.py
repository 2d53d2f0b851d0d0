"""``arbx halt [--reason]`` / ``arbx resume``: the kill switch, a durable flag in the application database.

While halted the funding-opportunity sensor asks for nothing and open runs refuse to start; an execution already
sending finishes both legs (or unwinds), and closes, reconcile and liquidation protection keep running, so a halt
never leaves a single leg open. Both are alerts too, so the owner's chat hears of a halt from the command line.
"""

from __future__ import annotations

import argparse

from arbx_pipelines.rpc.context import rpc_context
from arbx_pipelines.rpc.steering import halt_trading, resume_trading


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stop = sub.add_parser("halt", help="engage the kill switch: no new positions (open hedges stay hedged)")
    stop.add_argument("--reason", default="", help="why; shown by sensors and in alerts")
    stop.set_defaults(handler=_halt)
    go = sub.add_parser("resume", help="release the kill switch")
    go.set_defaults(handler=_resume)


def _halt(args: argparse.Namespace) -> int:
    answer = halt_trading(rpc_context(args.config), args.reason)
    print(f"halted: {answer['reason']} (arbx resume to trade again)")
    return 0


def _resume(args: argparse.Namespace) -> int:
    was = resume_trading(rpc_context(args.config))["was"]
    print("resumed" + (f" (was halted: {was})" if was else " (was not halted)"))
    return 0
