"""The ``arbx`` command: one subcommand module per concern, each exposing ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.logs import configure_logging
from arbx_pipelines.storage.db import DatabaseError

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
    "engine",
    "scenario",
    "reconcile",
    "views",
    "close",
    "breaker",
    "health",
    "deploy",
    "metrics",
)


#: long-running commands whose process registers only its own subcommand: the full parser imports every command
#: module, Dagster and pandas among them (about 100 MB more resident memory in the spot engine's process)
LEAN_COMMANDS: dict[str, str] = {"engine": "engine"}


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="path to arbx.yaml (default: $ARBX_CONFIG or ./arbx.yaml)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument("--log-format", choices=("kv", "json"), default="kv")


def _lean_module(argv: Sequence[str] | None) -> str | None:
    """The module of a :data:`LEAN_COMMANDS` command named by ``argv``, else None."""
    pre = argparse.ArgumentParser(add_help=False)
    _global_options(pre)
    try:
        _, rest = pre.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit:  # a malformed global option: the full parser reports it
        return None
    return LEAN_COMMANDS.get(rest[0]) if rest else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``only``: register just that command module's subcommands."""
    parser = argparse.ArgumentParser(prog="arbx", description="ArbitrageX: funding-rate and spot arbitrage")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (only,) if only else COMMAND_MODULES:
        importlib.import_module(f"arbx_pipelines.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster marks some APIs (single-run backfills, ...) beta/preview; that is not news to a user of the CLI.
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    parser = build_parser(_lean_module(argv))
    args = parser.parse_args(argv)
    configure_logging(args.log_level or "INFO", args.log_format)
    try:
        result = args.handler(args)
    except (ConfigError, CliError, DatabaseError) as exc:
        print(f"arbx: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # the database went away after the start's own check
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        print(f"arbx: database error: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arbx: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    # run the package module, not this __main__ copy, so CliError raised by subcommands is the one caught here
    sys.exit(importlib.import_module("arbx_pipelines.cli.main").main())
