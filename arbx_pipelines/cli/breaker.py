"""``arbx breaker status | reset``: the circuit breaker that stops new positions after consecutive failed opens.

It never closes by itself: after looking at the failures ``status`` lists, ``reset`` closes it and zeroes the count.
"""

from __future__ import annotations

import argparse
import json

from arbx_pipelines.rpc import tables
from arbx_pipelines.rpc.context import rpc_context
from arbx_pipelines.rpc.steering import reset_circuit_breaker
from arbx_pipelines.rpc.views import breaker_status


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    breaker = sub.add_parser("breaker", help="the circuit breaker: status or reset")
    action = breaker.add_subparsers(dest="breaker_action", metavar="ACTION", required=True)
    show = action.add_parser("status", help="open or closed, the failure count and the failures behind it")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_status)
    reset = action.add_parser("reset", help="close the breaker and zero the failure count")
    reset.add_argument("--json", action="store_true", help="print JSON")
    reset.set_defaults(handler=_reset)


def _status(args: argparse.Namespace) -> int:
    data = breaker_status(rpc_context(args.config))
    print(json.dumps(data, indent=2) if args.json else tables.breaker_text(data))
    return 0


def _reset(args: argparse.Namespace) -> int:
    data = reset_circuit_breaker(rpc_context(args.config))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        was = "open" if data["was"]["open"] else "closed"
        print(f"circuit breaker reset (was {was}, {data['was']['consecutive_failures']} consecutive failures)")
    return 0
