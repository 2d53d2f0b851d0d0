"""``arbx reconcile [--venue V] [--json]``: the reconcile job's code, run now; exit 0 when venue and records agree, 3
when unknown exposure remains, 2 on a bad argument."""

from __future__ import annotations

import json

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.scenarios.harness import sim_harness
from tests.execution.simkit import Admin


def test_reconcile_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_harness(venues=["binance"]) as harness:
        config = str(harness.config_path)
        assert main(["--config", config, "reconcile", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["agrees"] is True and [v["venue"] for v in report["venues"]] == ["binance"]
        # coins nobody recorded (not one the spot engine trades: those are its working inventory)
        Admin(harness.server.base_url).set_balance("binance", "spot", "LINK", 30)
        assert main(["--config", config, "reconcile", "--venue", "binance"]) == 3
        out = capsys.readouterr().out
        assert "UNKNOWN EXPOSURE LINK/USDT spot: 30" in out and "exit 3" in out
        assert main(["--config", config, "reconcile", "--venue", "okx"]) == 2
        assert capsys.readouterr().err.strip() == "arbx: --venue okx is not enabled; enabled: binance"
