"""The admin endpoint moves prices and time at run time, and fault rules also come from the config file."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from sim_http_support import Admin, binance_client

from arbx_pipelines.config.schema import SimulatorConfig
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.simulator import Simulator


@pytest.fixture(scope="module")
def binance(fresh_sim_server: SimServer) -> ccxt.binance:
    return binance_client(fresh_sim_server.base_url)


def test_price_can_be_set_and_spiked_then_released(binance: ccxt.binance, fresh_sim_server: SimServer) -> None:
    admin = Admin(fresh_sim_server.base_url)
    admin.call("POST", "/price", {"venue": "binance", "coin": "XRP", "price": 0.75})
    assert binance.fetch_funding_rate("XRP/USDT:USDT")["markPrice"] == pytest.approx(0.75, rel=2e-3)
    before = binance.fetch_ticker("XRP/USDT")["last"]
    admin.call("POST", "/price", {"venue": "binance", "coin": "XRP", "factor": 1.2})
    assert binance.fetch_ticker("XRP/USDT")["last"] == pytest.approx(before * 1.2, rel=3e-3)
    assert admin.call("DELETE", "/price?coin=XRP")["ended"] == 2
    assert binance.fetch_ticker("XRP/USDT")["last"] != pytest.approx(before * 1.2, rel=3e-3)


def test_the_test_clock_moves_only_when_told_and_can_be_set_running(fresh_sim_server: SimServer) -> None:
    admin = Admin(fresh_sim_server.base_url)
    state = admin.call("GET", "/state")
    assert state["paused"] is True  # a stepped clock: tests see the same prices on every run
    assert admin.call("GET", "/state")["time_ms"] == state["time_ms"]
    assert admin.advance(2) - state["time_ms"] == 2 * 3_600_000
    admin.pause(False)
    assert admin.call("GET", "/state")["paused"] is False
    admin.pause()
    paused_at = admin.call("GET", "/state")["time_ms"]
    assert admin.call("GET", "/state")["time_ms"] == paused_at


def test_bad_admin_input_is_refused_with_a_reason(fresh_sim_server: SimServer) -> None:
    import urllib.error

    admin = Admin(fresh_sim_server.base_url)
    with pytest.raises(urllib.error.HTTPError) as raised:
        admin.call("POST", "/funding", {"venue": "kraken", "coin": "BTC", "rate": 0.001})
    assert raised.value.code == 400 and b"kraken" in raised.value.read()


def test_fault_rules_from_the_config_are_active_at_start() -> None:
    config = SimulatorConfig(faults=[{"kind": "reject", "venue": "binance", "endpoint": "POST /fapi/v1/order",
                                      "reason": "min_notional", "times": 2}])  # type: ignore[list-item]  # fmt: skip
    settings = SimSettings.from_config(config, history_dir=None, port=0)
    assert settings.start_balance_usdt == Decimal("500")
    simulator = Simulator(settings)
    [rule] = simulator.faults.rules
    assert (rule.kind.value, rule.reason, rule.times) == ("reject", "min_notional", 2)
