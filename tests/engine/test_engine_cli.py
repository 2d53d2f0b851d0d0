"""``arbx engine``: refused with one line when spread is off or misconfigured; runs against the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arbx_pipelines.cli.main import command_of, main
from arbx_pipelines.config.schema import SpreadConfig
from arbx_pipelines.core.models import Mode
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings


def _config(tmp_path: Path, **values: object) -> str:
    path = tmp_path / "arbx.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), **values}))
    return str(path)


def test_spread_is_on_by_default_only_in_sim() -> None:
    assert SpreadConfig().active(Mode.SIM) and not SpreadConfig().active(Mode.LIVE)
    assert not SpreadConfig(enabled=False).active(Mode.SIM) and SpreadConfig(enabled=True).active(Mode.DEMO)


def test_engine_refuses_when_spread_is_off_or_symbols_are_not_spot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", _config(tmp_path, spread={"enabled": False}), "engine"]) == 2
    assert "spread is off in sim mode" in capsys.readouterr().err
    assert main(["--config", _config(tmp_path, spread={"symbols": ["BTC/USDT:USDT"]}), "engine"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("arbx: config error") and "spread.symbols" in err and len(err.splitlines()) == 1


def test_engine_watches_the_simulated_books_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SimServer(SimSettings(port=0, seed=3, history_dir=None)) as server:
        config = _config(tmp_path, simulator={"port": server.port}, spread={"symbols": ["ETH/USDT"]})
        assert main(["--config", config, "engine", "--seconds", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["book_updates"] > 3  # three venues' streams, several updates each
    assert summary["failed"] == 0


def test_the_engine_process_parses_its_command_without_importing_dagster_or_pandas() -> None:
    code = (
        "import sys\n"
        "from arbx_pipelines.cli.main import build_parser, command_of\n"
        "argv = ['--log-level', 'WARNING', 'engine', '--seconds', '1']\n"
        "args = build_parser(command_of(argv)).parse_args(argv)\n"
        "assert args.command == 'engine' and args.seconds == 1.0, args\n"
        "print(sorted(m for m in ('dagster', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
    assert command_of(["--help"]) is None and command_of(["nonsense"]) is None  # help and typos: the full parser
