"""Reconcile runs once per code-location start and on a schedule; ``arbx scenario funding-spike --json`` runs the
whole path through Dagster and prints the summary."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.jobs.schedules import every_minutes_cron
from arbx_pipelines.scenarios.harness import sim_harness


def test_reconcile_runs_once_per_start_and_is_scheduled() -> None:
    with sim_harness() as harness:
        first = harness.tick("reconcile_on_start")
        second = harness.tick("reconcile_on_start")
        assert len(first) == 1 and [r.run_key for r in second] == [first[0].run_key]
        assert first[0].run_key is not None and first[0].run_key.startswith("reconcile-start:")
        assert harness.run(first[0], "reconcile").success
        schedule = harness.defs.resolve_schedule_def("reconcile_schedule")
        assert schedule.cron_schedule == every_minutes_cron(harness.loaded.config.schedules.reconcile_minutes)


@pytest.mark.parametrize(("minutes", "cron"), [(15, "*/15 * * * *"), (120, "0 */2 * * *"), (1440, "0 0 * * *")])
def test_every_minutes_cron(minutes: int, cron: str) -> None:
    assert every_minutes_cron(minutes) == cron


def test_scenario_funding_spike_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "funding-spike", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    orders = summary["orders"]
    assert len(orders) >= 4
    for order in orders:
        assert {"venue", "symbol", "side", "amount", "client_order_id", "status"} <= set(order)
        assert order["status"] == "closed" and order["client_order_id"].startswith("arbx")
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    position = summary["position"]
    assert {"perp_amount", "spot_amount", "venue", "symbol"} <= set(position)
    assert position["venue"] == "binance" and position["symbol"] == "DOGE/USDT:USDT"
    perp, spot = Decimal(position["perp_amount"]), Decimal(position["spot_amount"])
    assert perp > 0 and abs(perp - spot) < Decimal(100)  # within one lot of the DOGE perpetual
    assert summary["position_after_close"]["status"] == "closed"
    assert Decimal(summary["funding_received"]) > 0
    pnl = Decimal(summary["pnl"])
    assert pnl.quantize(Decimal("0.01")) == Decimal(summary["account_change"]).quantize(Decimal("0.01"))
