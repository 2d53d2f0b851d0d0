"""``arbx halt [--reason]`` / ``arbx resume``: the kill switch, a durable flag in the application database.

While halted the funding-opportunity sensor asks for nothing and open runs refuse to start; an execution already
sending finishes both legs (or unwinds), and closes, reconcile and liquidation protection keep running, so a halt
never leaves a single leg open.
"""

from __future__ import annotations

import argparse

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.execution.risk_state import halt, halted, resume
from arbx_pipelines.storage.db import make_engine, upgrade


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stop = sub.add_parser("halt", help="engage the kill switch: no new positions (open hedges stay hedged)")
    stop.add_argument("--reason", default="", help="why; shown by sensors and in alerts")
    stop.set_defaults(handler=_halt)
    go = sub.add_parser("resume", help="release the kill switch")
    go.set_defaults(handler=_resume)


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    url = load_config(args.config).database_url
    upgrade(url)  # the flag table must exist even before the first run
    return make_engine(url)


def _halt(args: argparse.Namespace) -> int:
    engine = _engine(args)
    halt(engine, args.reason or "manual halt")
    print(f"halted: {halted(engine)} (arbx resume to trade again)")
    return 0


def _resume(args: argparse.Namespace) -> int:
    engine = _engine(args)
    was = halted(engine)
    resume(engine)
    print("resumed" + (f" (was halted: {was})" if was else " (was not halted)"))
    return 0
