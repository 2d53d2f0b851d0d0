"""Inventory skew and suggested transfers: pure suggestions, and the asset against the simulated venues."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from dagster import DagsterInstance, materialize

from arbx_pipelines.assets.inventory import inventory_rebalancing
from arbx_pipelines.engine.rebalance import Transfer, skew, suggest_transfers
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings

D = Decimal


def test_a_drained_venue_is_refilled_from_the_richest_ones() -> None:
    holdings = {"binance": {"ETH": D(9), "USDT": D(100)}, "okx": {"ETH": D(0), "USDT": D(100)},
                "bitget": {"ETH": D(3), "USDT": D(100)}}  # fmt: skip
    transfers = suggest_transfers(holdings, ["ETH", "USDT"])
    assert transfers == [Transfer("ETH", "binance", "okx", D(4))]
    assert skew(holdings, "ETH")["binance"] == D("0.75")
    assert suggest_transfers({"okx": {"ETH": D(1)}}, ["ETH"]) == []


def test_the_asset_reads_the_venues_and_only_suggests(tmp_path: Path) -> None:
    with SimServer(SimSettings(port=0, seed=9, history_dir=None)) as server:
        admin = SimAdmin(server.base_url)
        admin.call("POST", "/venues/binance/balance", {"wallet": "spot", "asset": "ETH", "amount": "3"})
        config = tmp_path / "arbx.yaml"
        config.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "simulator": {"port": server.port},
                                          "spread": {"symbols": ["ETH/USDT"]}}))  # fmt: skip
        exchanges = ExchangesResource(venues=["binance", "okx", "bitget"], sim_url=server.base_url,
                                      config_path=str(config), rate_limit_ms=1)  # fmt: skip
        resources = {"settings": SettingsResource(config_path=str(config)), "exchanges": exchanges}
        result = materialize([inventory_rebalancing], instance=DagsterInstance.ephemeral(), resources=resources)
        after = admin.account("binance")["wallets"]["spot"]["ETH"]
    metadata = result.asset_materializations_for_node("inventory_rebalancing")[0].metadata
    assert metadata["suggested"].value == 2  # 1 ETH to each of okx and bitget
    assert "| ETH | binance |" in str(metadata["transfers"].value)
    assert str(after["free"]) == "3"  # nothing moved
