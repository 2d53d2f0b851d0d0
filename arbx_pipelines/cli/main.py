"""The ``arbx`` command: one subcommand module per concern, each exposing ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import OperationalError

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.logs import configure_logging
from arbx_pipelines.storage.db import DatabaseError

#: modules under arbx_pipelines.cli that add subcommands
#: each command and the module that registers it: a start imports only its own command's module (the others pull
#: in pandas, ccxt and the Dagster definitions, 150 MB that ``arbx run`` or ``arbx engine`` would carry for their whole
#: life); ``arbx --help`` and an unknown command import them all
COMMANDS: dict[str, str] = {
    "db": "db",
    "config": "config_cmd",
    "secrets": "secrets_cmd",
    "run": "run",
    "sim": "sim",
    "history": "history",
    "bench": "bench",
    "backtest": "backtest",
    "forecast": "forecast",
    "halt": "halt",
    "resume": "halt",
    "engine": "engine",
    "scenario": "scenario",
    "reconcile": "reconcile",
    "status": "views",
    "positions": "views",
    "pnl": "views",
    "trades": "views",
    "close": "close",
    "breaker": "breaker",
    "health": "health",
    "deploy": "deploy",
    "metrics": "metrics",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class _Quiet(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise argparse.ArgumentError(None, message)


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="path to arbx.yaml (default: $ARBX_CONFIG or ./arbx.yaml)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument("--log-format", choices=("kv", "json"), default="kv")


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names after the global options, if it is a known one."""
    pre = _Quiet(add_help=False, exit_on_error=False)
    _global_options(pre)
    pre.add_argument("command", nargs="?")
    try:
        known, _rest = pre.parse_known_args(argv)
    except argparse.ArgumentError:  # a malformed global option: the full parser says what is wrong
        return None
    return known.command if known.command in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with ``command``'s module only (see :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(prog="arbx", description="ArbitrageX: funding-rate and spot arbitrage")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES:
        importlib.import_module(f"arbx_pipelines.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster marks some APIs (single-run backfills, ...) beta/preview; that is not news to a user of the CLI.
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(argv))
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
