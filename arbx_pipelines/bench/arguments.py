"""The command-line options of each bench (``arbx bench <name>``), apart from the benches themselves: building
the ``arbx`` parser (its ``--help`` too) must not import what the benches measure (the Dagster code location, ccxt,
the simulator)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic settlements to bulk-load")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="of those, rows to insert one by one")
    parser.add_argument("--symbols", type=int, default=500, help="distinct symbols the rows spread over")


def venues_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=100, help="orders per venue for the round-trip figure")
    parser.add_argument("--naive-limit", type=int, default=0, help="cap on symbols in the naive loop (0: all)")


def execution_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--symbols", type=int, default=6, help="executions at once, one symbol each (>= 5)")
    parser.add_argument("--rounds", type=int, default=3, help="in-process rounds")
    parser.add_argument(
        "--daemon-single", type=int, default=12, help="signals one at a time through dagster dev (cycling the symbols)"
    )
    parser.add_argument(
        "--daemon-rounds", type=int, default=1, help="rounds of every symbol at once through dagster dev"
    )
    parser.add_argument("--no-daemon", action="store_true", help="skip the dagster dev measurement")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for a daemon round")


def spot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the engine runs (default 60)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="injected latency per venue request")
    parser.add_argument("--every-ms", type=int, default=4000, help="one dislocation per coin per this many ms")
    parser.add_argument("--seed", type=int, default=42, help="the simulator's seed")
    parser.add_argument("--database-url", default=None, help="PostgreSQL to record in (a fresh schema); default SQLite")
    parser.add_argument("--redis-url", default=None, help="state store (venue slots, heartbeat); default: the database")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def backtest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--symbols", type=int, default=100, help="symbols in the backtest (default 100)")
    parser.add_argument("--years", type=float, default=3.0, help="years of 8-hour settlements (default 3)")
    parser.add_argument("--grid-sets", type=int, default=100, help="parameter sets in the grid (default 100)")
    parser.add_argument("--forecast-symbols", type=int, default=300, help="symbols to forecast (default 300)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")


def crash_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schedules", type=int, default=20, help="fault-fuzzer schedules after the matrix (default 20)"
    )
    parser.add_argument(
        "--venues",
        nargs="+",
        choices=("binance", "okx", "bitget"),
        default=["binance", "okx", "bitget"],
        help="simulated venues (default: all three)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the first schedule (default 1)")
    parser.add_argument("--no-matrix", action="store_true", help="run the fuzzer schedules only (replay a seed)")
    parser.add_argument("--redis", metavar="URL", help="Redis URL: half the cases run with Redis as the state store")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--idle", type=float, default=60.0, help="seconds the idle stack is measured (default 60)")
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="quiet seconds (no run in flight) before measuring",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "ingest": ingest_arguments,
    "venues": venues_arguments,
    "execution": execution_arguments,
    "backtest": backtest_arguments,
    "spot": spot_arguments,
    "crash": crash_arguments,
    "stack": stack_arguments,
}
