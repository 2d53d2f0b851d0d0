"""The ``arbx`` command: one subcommand module per concern, each exposing ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from arbx_pipelines.config.loader import ConfigError
from arbx_pipelines.logs import configure_logging

#: modules under arbx_pipelines.cli that add subcommands
COMMAND_MODULES: tuple[str, ...] = (
    "db",
    "config_cmd",
    "secrets_cmd",
    "run",
    "sim",
    "history",
    "bench",
    "backtest",
    "forecast",
    "halt",
    "scenario",
    "reconcile",
    "views",
    "close",
    "breaker",
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arbx", description="ArbitrageX: funding-rate and spot arbitrage")
    parser.add_argument("--config", help="path to arbx.yaml (default: $ARBX_CONFIG or ./arbx.yaml)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument("--log-format", choices=("kv", "json"), default="kv")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"arbx_pipelines.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster marks some APIs (single-run backfills, ...) beta/preview; that is not news to a user of the CLI.
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level or "INFO", args.log_format)
    try:
        result = args.handler(args)
    except (ConfigError, CliError) as exc:
        print(f"arbx: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arbx: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    # run the package module, not this __main__ copy, so CliError raised by subcommands is the one caught here
    sys.exit(importlib.import_module("arbx_pipelines.cli.main").main())
