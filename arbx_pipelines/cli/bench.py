"""``arbx bench ingest|venues|execution|backtest|spot|crash|stack|all``: print performance figures.

Each bench lives in its own module ``arbx_pipelines.bench.<name>`` exposing ``run(args) -> int``; its options are in
``arbx_pipelines.bench.arguments``, so building the parser imports no bench. A bench whose module does not exist yet
says so and exits 2. This file only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

from arbx_pipelines.bench.arguments import ARGUMENTS
from arbx_pipelines.cli.main import CliError

BENCHES: dict[str, str] = {
    "ingest": "funding snapshot of every simulated perpetual; history rows/s into PostgreSQL vs a naive insert",
    "venues": "simulated venue latency and throughput",
    "execution": "signal-to-order latency of the execution path",
    "backtest": "backtest throughput over the recorded history",
    "spot": "the spot arbitrage engine on the simulator with injected latency",
    "crash": "kill every execution job at every crash point, fuzz faults; reconcile and check the invariants",
    "stack": "memory (PSS) and CPU of the idle stack that `arbx run` starts",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="print performance figures")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    for name, description in BENCHES.items():
        parser = bench_sub.add_parser(name, help=description)
        ARGUMENTS[name](parser)
        parser.set_defaults(handler=_run_one, bench_name=name)
    every = bench_sub.add_parser("all", help="every bench in turn, with its default settings")
    every.set_defaults(handler=_run_all)


def bench_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"arbx_pipelines.bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"arbx_pipelines.bench.{name}":
            raise
        return None


def _run_one(args: argparse.Namespace) -> int:
    module = bench_module(args.bench_name)
    if module is None:
        raise CliError(f"bench {args.bench_name}: not implemented yet")
    try:
        return int(module.run(args))
    except ValueError as exc:
        raise CliError(f"bench {args.bench_name}: {exc}") from exc


def _run_all(args: argparse.Namespace) -> int:
    status = 0
    for name in BENCHES:
        module = bench_module(name)
        if module is None:
            print(f"bench {name}: not implemented yet")
            status = 2
            continue
        defaults = argparse.ArgumentParser()
        ARGUMENTS[name](defaults)
        status = max(status, int(module.run(defaults.parse_args([]))))
    return status
