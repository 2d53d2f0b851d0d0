"""The slow path: the spread sensor reads the latest quotes and fires ``execute_spot_arbitrage``, which re-validates
on live books and trades a real dislocation of the simulator on both venues, recorded like the engine's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context

from arbx_pipelines.bench import spot
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.definitions import build_resources
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.engine.liveness import HEARTBEAT_FLAG
from arbx_pipelines.execution.risk_state import halt
from arbx_pipelines.jobs.spot import execute_spot_arbitrage
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.sensors.spot import spot_spread
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.spot_arbitrage import spot_executions
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings


def _quote(bid: str, ask: str) -> dict[str, str]:
    return {"bid": bid, "ask": ask, "time": datetime(2026, 1, 1, tzinfo=UTC).isoformat()}


def test_spread_sensor_fires_the_job_which_trades_the_dislocation(tmp_path: Path) -> None:
    # a stepped clock: the books the job re-validates on are the books the dislocation was set on, every run
    settings = SimSettings(port=0, seed=21, history_dir=None, market_start_ms=REPRODUCIBLE_MARKET_START_MS,
                           clock_running=False)  # fmt: skip
    with SimServer(settings) as server:
        config = tmp_path / "arbx.yaml"
        config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "simulator": {"port": server.port},
                                          "spread": {"symbols": ["ETH/USDT"], "min_profit_usdt": 0.01}}))  # fmt: skip
        loaded = load_config(str(config))
        upgrade(loaded.database_url)
        engine = make_engine(loaded.database_url)
        resources = build_resources(loaded, str(config), rate_limit_ms=1)
        store = DatabaseState(engine)
        store.put_quote("binance", "ETH/USDT", _quote("3000", "3001"))
        store.put_quote("okx", "ETH/USDT", _quote("3030", "3031"))
        result = spot_spread(build_sensor_context(resources=resources))
        assert isinstance(result, SensorResult) and result.run_requests is not None
        (request,) = result.run_requests
        assert request.run_config["ops"]["execute_spot_arbitrage_op"]["config"] == {
            "symbol": "ETH/USDT", "buy_venue": "binance", "sell_venue": "okx"}  # fmt: skip
        spot._fund(server.base_url)
        SimAdmin(server.base_url).call("POST", "/dislocations", {"venue": "okx", "coin": "ETH", "bps": 120,
                                                                  "duration_ms": 600000})  # fmt: skip
        instance = DagsterInstance.ephemeral()
        run = execute_spot_arbitrage.execute_in_process(run_config=request.run_config, resources=resources,
                                                        instance=instance)  # fmt: skip
        assert run.success
        told = [e.user_message for e in instance.all_logs(run.run_id) if e.user_message.startswith("spot arbitrage")]
        executions = spot_executions(engine, SPOT_ARB_KIND)
        assert len(executions) == 1, f"the run recorded {len(executions)} arbitrages; it said {told}"
        (execution,) = executions
        assert execution.status in ("done", "failed")  # both legs filled, or a short leg flattened
        assert execution.planned["buy_venue"] == "binance" and execution.planned["sell_venue"] == "okx"
        halt(engine, "test")
        assert isinstance(spot_spread(build_sensor_context(resources=resources)), SkipReason)


def test_spread_sensor_leaves_the_spreads_to_a_live_engine(tmp_path: Path) -> None:
    """While the engine's heartbeat is fresh it takes the spreads itself: no run per persisting spread (an idle
    stack would start one a minute per venue pair); once the heartbeat is stale the sensor fires again."""
    config = tmp_path / "arbx.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "spread": {"symbols": ["ETH/USDT"]}}))
    loaded = load_config(str(config))
    upgrade(loaded.database_url)
    store = DatabaseState(make_engine(loaded.database_url))
    store.put_quote("binance", "ETH/USDT", _quote("3000", "3001"))
    store.put_quote("okx", "ETH/USDT", _quote("3030", "3031"))
    resources = build_resources(loaded, str(config))
    now = datetime.now(UTC)  # the sensor measures the heartbeat's age on the wall clock: stamp it at this moment
    store.set_flag(HEARTBEAT_FLAG, json.dumps({"at": now.isoformat()}))
    skipped = spot_spread(build_sensor_context(resources=resources))
    assert isinstance(skipped, SkipReason) and "engine is alive" in str(skipped.skip_message)
    store.set_flag(HEARTBEAT_FLAG, json.dumps({"at": (now - timedelta(minutes=5)).isoformat()}))
    fired = spot_spread(build_sensor_context(resources=resources))
    assert isinstance(fired, SensorResult) and fired.run_requests is not None and len(fired.run_requests) == 1
