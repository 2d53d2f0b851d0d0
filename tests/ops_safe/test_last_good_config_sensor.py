"""A typo in arbx.yaml while a hedge is open must not blind risk monitoring: the position-risk sensor keeps acting
on the last good configuration (an emergency close still fires) and the rejected edit raises one alert."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.scenarios.harness import Harness, sim_harness
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert

PERP = "DOGE/USDT:USDT"
MMR = Decimal("0.01")  # the simulated DOGE perpetual's maintenance margin rate


def put_at_distance(harness: Harness, distance: str) -> None:
    """Set the futures wallet so the short's liquidation price sits ``distance`` above the mark."""
    (venue_position,) = harness.admin.account("binance")["positions"]
    qty = abs(Decimal(str(venue_position["qty"])))
    entry, mark = Decimal(str(venue_position["entry_price"])), Decimal(str(venue_position["mark_price"]))
    collateral = mark * (1 + Decimal(distance)) * qty * (1 + MMR) - qty * entry
    body = {"wallet": "futures", "asset": "USDT", "amount": str(collateral.quantize(Decimal("0.01")))}
    harness.admin.call("POST", "/venues/binance/balance", body)


def config_alerts(harness: Harness) -> list[Alert]:
    with transaction(harness.engine()) as session:
        return list(session.execute(select(Alert).where(Alert.kind == "config_rejected")).scalars())


def test_invalid_edit_while_a_position_is_open(monkeypatch: pytest.MonkeyPatch) -> None:
    with sim_harness({"strategy.symbols": [PERP]}, venues=["binance"]) as harness:
        harness.admin.set_funding("binance", PERP, 0.003)
        harness.materialize("funding_snapshot")
        (request,) = harness.tick("funding_opportunity")
        assert harness.run(request, "open_funding_position").success
        (position,) = positions_with_status(harness.engine(), ("open",))
        assert harness.tick("position_risk") == []  # healthy, on the configuration as written

        good = harness.config_path.read_text(encoding="utf-8")
        lines = good.count("\n")
        harness.config_path.write_text(good + "risk:\n  max_trade_usdt: -5\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            load_config(harness.config_path, env={})  # the file itself is invalid now

        put_at_distance(harness, "0.05")  # liquidation 5 % away: the emergency tier
        for _ in range(2):
            (close,) = harness.tick("position_risk")
            assert close.job_name == "close_position"
            assert close.run_config["ops"]["close_position_op"]["config"]["position_id"] == position.id

        (alert,) = config_alerts(harness)
        assert alert.severity == "critical"
        assert f"({harness.config_path}:{lines + 2}): risk.max_trade_usdt = -5" in alert.message
        assert "last good configuration stays in force" in alert.message
