"""The ``arbx`` command imports only the module of the command it runs: ``arbx run`` and ``arbx engine`` stay
long-lived, and every other command's imports (pandas, ccxt, the Dagster definitions) would stay with them."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from arbx_pipelines.cli.main import COMMAND_MODULES, COMMANDS, build_parser, command_of


def test_every_command_maps_to_the_module_that_registers_it() -> None:
    registered: dict[str, str] = {}
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"arbx_pipelines.cli.{module}").register(sub)
        registered |= dict.fromkeys(sub.choices, module)
    assert registered == COMMANDS


def test_the_command_is_found_after_the_global_options() -> None:
    assert command_of(["--config", "x.yaml", "--log-level", "DEBUG", "engine", "--live"]) == "engine"
    assert command_of(["positions", "--json"]) == "positions"
    assert command_of(["--help"]) is None and command_of([]) is None and command_of(["--config"]) is None
    assert command_of(["nonsense"]) is None
    args = build_parser("run").parse_args(["--config", "x.yaml", "run", "--port", "3100"])
    assert (args.command, args.port, args.config) == ("run", 3100, "x.yaml")
    full = build_parser()
    assert full.parse_args(["resume"]).command == "resume"


def test_arbx_run_imports_neither_pandas_nor_ccxt_nor_dagster() -> None:
    code = (
        "import sys; from arbx_pipelines.cli.main import build_parser; build_parser('run'); "
        "print(sorted(m for m in ('pandas', 'numpy', 'ccxt', 'dagster') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
