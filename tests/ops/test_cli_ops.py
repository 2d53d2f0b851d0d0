"""Every operator command end to end on the simulated Binance, through ``arbx`` itself: a hedge opened by the
sensor is listed (status, positions, trades), closed by ``arbx close --all``, its P&L shown by ``arbx pnl``; failed
opens trip the breaker, which ``arbx breaker status`` and ``arbx status`` report (and a critical alert names the
failures) until ``arbx breaker reset``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.rpc.context import rpc_context
from arbx_pipelines.rpc.watch import LifecycleWatcher
from arbx_pipelines.scenarios.harness import sim_harness
from arbx_pipelines.storage.alert_log import latest_alerts
from tests.ops.scenario import BREAKER_FAILURES, HARNESS_KEYS, PERP, open_position, trip_breaker


def test_views_close_pnl_and_breaker(capsys: pytest.CaptureFixture[str]) -> None:
    with sim_harness(HARNESS_KEYS, venues=["binance"]) as harness:
        config = str(harness.config_path)

        def cli(*args: str) -> Any:
            assert main(["--config", config, *args]) == 0
            out = capsys.readouterr().out
            return json.loads(out) if "--json" in args else out

        position_id = open_position(harness)
        (listed,) = cli("positions", "--json")
        assert [listed[k] for k in ("id", "venue", "symbol", "status")] == [position_id, "binance", PERP, "open"]
        assert Decimal(listed["perp_amount"]) > 0 and Decimal(listed["funding_received"]) > 0
        assert listed["mark_price"] is not None and listed["unrealized_pnl"] is not None
        assert Decimal(listed["hedge_deviation"]) < Decimal("0.03")
        assert PERP in cli("positions") and "liq dist" in cli("positions")

        status = cli("status", "--json")
        assert status["mode"] == "sim" and status["venues"]["binance"]["reachable"] is True
        assert status["open_positions"] == 1 and status["kill_switch"]["engaged"] is False
        assert status["breaker"]["open"] is False and status["last_funding_snapshot"]["age_seconds"] >= 0
        assert "open positions: 1" in cli("status")

        (opening,) = cli("trades", "--json")
        assert opening["kind"] == "open_funding" and opening["status"] == "done"
        assert {o["leg"] for o in opening["orders"]} == {"spot", "perp"}
        assert all(o["status"] == "closed" and Decimal(o["filled"]) > 0 for o in opening["orders"])

        assert main(["--config", config, "close", "--all"]) == 2  # not on a terminal: only with --yes
        assert capsys.readouterr().err.strip() == (
            f"arbx: closing {position_id} (binance {PERP}) needs --yes when not asked on a terminal"
        )
        (closed,) = cli("close", "--all", "--reason", "by hand", "--yes", "--json")
        assert closed["status"] == "closed" and closed["via"] == "in_process" and closed["close_reason"] == "by hand"
        (after,) = cli("positions", "--all", "--json")
        assert after["status"] == "closed" and after["realized_pnl"] == closed["realized_pnl"]
        assert cli("positions", "--json") == []
        today = cli("pnl", "--days", "2", "--json")["days"][0]
        assert Decimal(today["realized"]) == Decimal(closed["realized_pnl"])
        assert Decimal(today["funding"]) == Decimal(after["funding_received"]) > 0 and Decimal(today["fees"]) > 0

        assert main(["--config", config, "close", str(position_id), "--yes"]) == 2
        assert main(["--config", config, "pnl", "--days", "0"]) == 2
        errors = capsys.readouterr().err.strip().splitlines()
        assert errors == [
            f"arbx: position {position_id} is closed: only open or broken positions can be closed",
            "arbx: --days must be between 1 and 3650, got 0",
        ]

        trip_breaker(harness, failures=BREAKER_FAILURES)
        breaker = cli("breaker", "status", "--json")
        assert breaker["open"] is True and breaker["consecutive_failures"] == BREAKER_FAILURES
        assert len(breaker["failures"]) == BREAKER_FAILURES
        assert f"OPEN after {BREAKER_FAILURES} consecutive failures" in cli("status")
        LifecycleWatcher(rpc_context(config)).tick()
        (tripped,) = latest_alerts(harness.engine(), ["breaker_tripped"])
        assert tripped.severity == "critical" and tripped.message.count("binance DOGE/USDT:USDT at") == BREAKER_FAILURES
        assert breaker["failures"][0]["error"] in tripped.message

        assert cli("breaker", "reset", "--json")["now"]["open"] is False
        closed_again = {"open": False, "consecutive_failures": 0, "limit": BREAKER_FAILURES, "failures": []}
        assert cli("status", "--json")["breaker"] == closed_again
