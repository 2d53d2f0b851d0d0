"""Dagster's view of the engine: heartbeat alerts, runless fill events with a cursor, the daily stats asset."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, materialize
from sqlalchemy import Engine, select

from arbx_pipelines.assets.spot_arbitrage import spot_arbitrage
from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent, client_order_id
from arbx_pipelines.core.venue_data import OrderState, TradeFill
from arbx_pipelines.engine import service
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import CROSS_VENUE, SPOT_ARB_KIND, ExecutorSettings
from arbx_pipelines.engine.service import HEARTBEAT_FLAG, SpotEngine
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.risk_state import halt, resume
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.sensors.spot import spot_arbitrage_fills, spot_engine_heartbeat
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.executions import record_intent, set_execution_status
from arbx_pipelines.storage.models import Alert
from arbx_pipelines.storage.orders import record_order_fills
from arbx_pipelines.storage.state import DatabaseState

NOW = datetime.now(UTC)


def _leg(key: str, leg: str, venue: Venue, side: Side) -> OrderIntent:
    return OrderIntent(key, leg, client_order_id(key, leg), venue, "ETH/USDT", MarketType.SPOT, side, Decimal("0.1"),
                       Decimal("0.1"), Decimal("3000"))  # fmt: skip


def _finished_arbitrage(engine: Engine) -> None:
    """A recorded arbitrage: bought 0.1 ETH at 3000 on Binance, sold at 3010 on OKX, fees in USDT."""
    key = "spot-test-1"
    buy, sell = _leg(key, "buy", Venue.BINANCE, Side.BUY), _leg(key, "sell", Venue.OKX, Side.SELL)
    execution = record_intent(engine, key=key, kind=SPOT_ARB_KIND, venue=CROSS_VENUE, symbol="ETH/USDT",
                              planned={"expected_profit": "0.4", "buy_venue": "binance", "sell_venue": "okx"},
                              intents=[buy, sell])  # fmt: skip
    for intent, price, trade in ((buy, Decimal(3000), "t1"), (sell, Decimal(3010), "t2")):
        state = OrderState(intent.venue, intent.symbol, intent.client_order_id, trade, intent.side, "limit",
                           intent.amount, intent.amount, price, "closed")  # fmt: skip
        fill = TradeFill(intent.venue, intent.symbol, trade, trade, intent.side, intent.amount, price, Decimal("0.3"),
                         "USDT", NOW)  # fmt: skip
        assert record_order_fills(engine, intent.client_order_id, state, [fill], None)  # final with its fill
    set_execution_status(engine, execution.id, "done")


def test_fills_become_runless_events_and_the_day_stats_add_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arbx.db'}"
    upgrade(url)
    engine = make_engine(url)
    _finished_arbitrage(engine)
    database = DatabaseResource(url=url)
    result = spot_arbitrage_fills(build_sensor_context(cursor=None, resources={"database": database}))
    assert isinstance(result, SensorResult) and len(result.asset_events) == 1
    event = result.asset_events[0]
    assert event.metadata["quote_flow"].value == 0.4  # 301 - 300 - 0.3 - 0.3
    again = spot_arbitrage_fills(build_sensor_context(cursor=result.cursor, resources={"database": database}))
    assert isinstance(again, SkipReason)
    outcome = materialize([spot_arbitrage], partition_key=NOW.strftime("%Y-%m-%d"), resources={"database": database},
                          instance=DagsterInstance.ephemeral())  # fmt: skip
    metadata = outcome.asset_materializations_for_node("spot_arbitrage")[0].metadata
    assert metadata["arbitrages"].value == 1 and metadata["success_rate"].value == 1.0
    assert metadata["realized_pnl"].value == 0.4 and metadata["expected_pnl"].value == 0.4


def test_heartbeat_sensor_alerts_once_when_the_engine_is_silent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arbx.db'}"
    upgrade(url)
    config = tmp_path / "arbx.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "database": {"url": url}}))
    resources = {"settings": SettingsResource(config_path=str(config)), "state": StateResource(database_url=url),
                 "notifier": NotifierResource(config_path=str(config))}  # fmt: skip
    store = DatabaseState(make_engine(url))
    now = datetime.now(UTC)  # the sensor measures the heartbeat's age on the wall clock: stamp it at this moment
    store.set_flag(HEARTBEAT_FLAG, json.dumps({"at": now.isoformat()}))
    alive = spot_engine_heartbeat(build_sensor_context(resources=resources))
    assert isinstance(alive, SkipReason) and "alive" in str(alive.skip_message)
    store.set_flag(HEARTBEAT_FLAG, json.dumps({"at": (now - timedelta(minutes=5)).isoformat()}))
    for _ in range(2):
        spot_engine_heartbeat(build_sensor_context(resources=resources))
    with transaction(make_engine(url)) as session:
        kinds = list(session.execute(select(Alert.kind).where(Alert.kind == "spot_engine_down")).scalars())
    assert kinds == ["spot_engine_down"]  # once, not per tick


def _engine_without_venues(tmp_path: Path) -> SpotEngine:
    """A spot engine on a fresh SQLite database, with no venue: enough for its switches and heartbeat."""
    url = f"sqlite:///{tmp_path / 'arbx.db'}"
    upgrade(url)
    engine = make_engine(url)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine))
    limits = DetectionLimits(Decimal("0.002"), Decimal("0.5"), Decimal("150"))
    return SpotEngine(deps, {}, {}, ["ETH/USDT"], limits, ExecutorSettings())


def test_halt_stops_the_engines_new_entries_at_its_next_heartbeat(tmp_path: Path) -> None:
    spot = _engine_without_venues(tmp_path)
    engine, deps = spot.deps.engine, spot.deps
    spot.heartbeat()
    assert spot.entries_allowed
    halt(engine, "test")
    spot.heartbeat()
    assert not spot.entries_allowed
    beat = json.loads(deps.state.get_flag(HEARTBEAT_FLAG) or "{}")
    assert beat["entries_allowed"] is False
    resume(engine)
    spot.heartbeat()
    assert spot.entries_allowed


def test_the_heartbeat_is_written_when_the_switches_change_not_on_every_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The switches are re-read every ``HEARTBEAT_S``; the beat is rewritten only every ``BEAT_EVERY_S`` or at once
    when a switch changes, so a halt shows in the heartbeat without a write on every read."""
    spot = _engine_without_venues(tmp_path)
    engine, deps = spot.deps.engine, spot.deps
    monkeypatch.setattr(service, "HEARTBEAT_S", 0.01)
    monkeypatch.setattr(service, "BEAT_EVERY_S", 3600.0)

    def beat() -> dict[str, object]:
        return dict(json.loads(deps.state.get_flag(HEARTBEAT_FLAG) or "{}"))

    async def scenario() -> None:
        spot.heartbeat()
        first = beat()
        task = asyncio.create_task(spot._heartbeats())
        await asyncio.sleep(0.3)  # about thirty reads of the switches
        assert beat() == first  # nothing changed: nothing written
        halt(engine, "test")
        for _ in range(300):
            if beat().get("entries_allowed") is False:
                break
            await asyncio.sleep(0.01)
        assert beat()["entries_allowed"] is False and not spot.entries_allowed
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        spot.writers.close()
