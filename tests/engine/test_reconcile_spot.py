"""Reconcile (the job's function) and a live engine: an arbitrage of an engine that still beats is left alone, the
same arbitrage is finished from the venues once that engine's process is gone."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from arbx_pipelines.bench import spot
from arbx_pipelines.core.models import Mode, Side, Venue
from arbx_pipelines.core.spread import evaluate_spread
from arbx_pipelines.engine.detector import Opportunity
from arbx_pipelines.engine.executor import Executor, ExecutorSettings
from arbx_pipelines.engine.liveness import HEARTBEAT_FLAG
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.execution.reconcile import ReconcileReport
from arbx_pipelines.execution.reconcile_all import reconcile_all
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.orders import FILLS_PENDING, orders_of_execution
from arbx_pipelines.storage.state import DatabaseState, LockOwner, lock_token
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings

pytestmark = pytest.mark.isolated  # a child process stands in for the engine and is killed

SYMBOL = "ETH/USDT"
BUY, SELL = "binance", "okx"
RUN_ID = "engine-live"
KEY = f"spot-{RUN_ID}-1"


def _deps(url: str) -> ExecutionDeps:
    engine = make_engine(url)
    return ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine),
                         settings=ExecutionSettings(order_timeout_s=10.0, backoff_s=0.05, order_in_flight_s=1.0),
                         venues=(Venue.BINANCE, Venue.OKX))  # fmt: skip


def _client(base_url: str, venue: str) -> VenueClient:
    return make_client(Venue(venue), Mode.SIM, sim_url=base_url, rate_limit_ms=1)


async def _interrupt(deps: ExecutionDeps, base_url: str) -> None:
    """The buy answered, the sell accepted by the venue but its answer never seen, then the task is gone."""
    clients = {v: _client(base_url, v) for v in (BUY, SELL)}
    try:
        markets = {(venue, SYMBOL): await client.market(SYMBOL) for venue, client in clients.items()}
        asks = (await clients[BUY].order_book(SYMBOL, 20)).asks
        bids = (await clients[SELL].order_book(SYMBOL, 20)).bids
        quote = evaluate_spread(asks, bids, Decimal("0.05"), Decimal("0.001"), Decimal("0.001"))
        executor = Executor(deps, clients, markets, EngineStats(), ExecutorSettings(run_id=RUN_ID),
                            reserve=lambda *_: None, release=lambda *_: None, may_enter=lambda: True)  # fmt: skip
        SimAdmin(base_url).add_fault(kind="timeout_after_accept", venue=SELL, endpoint="POST /api/v5/trade/*",
                                     hang_ms=60000, times=1)  # fmt: skip
        task = asyncio.create_task(executor.arbitrage(Opportunity(SYMBOL, BUY, SELL, quote, 0.0), 1))
        deadline = time.monotonic() + 30
        while not _buy_answered(deps.engine):  # bounded: fails instead of hanging
            assert not task.done(), f"the arbitrage ended before its buy was answered: {task}"
            assert time.monotonic() < deadline, "the buy was not answered within 30 s"
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        SimAdmin(base_url).clear_faults()
    finally:
        for client in clients.values():
            await client.close()


def _buy_answered(engine: Engine) -> bool:
    execution = find_execution(engine, KEY)
    if execution is None:
        return False
    return any(
        o.leg == "buy" and o.status in ("closed", FILLS_PENDING) for o in orders_of_execution(engine, execution.id)
    )


def _cross(reports: list[ReconcileReport]) -> ReconcileReport:
    return next((r for r in reports if r.venue == "cross"), ReconcileReport("cross"))


def test_reconcile_leaves_a_live_engines_arbitrage_and_finishes_it_once_the_engine_is_gone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arbx.db'}"
    upgrade(url)
    deps = _deps(url)
    settings = SimSettings(port=0, seed=5, history_dir=None, market_start_ms=REPRODUCIBLE_MARKET_START_MS,
                           clock_running=False)  # fmt: skip
    engine_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        with SimServer(settings) as server:
            spot._fund(server.base_url)
            asyncio.run(_interrupt(deps, server.base_url))
            owner = lock_token(LockOwner(RUN_ID, engine_process.pid, socket.gethostname()))
            beat = {"at": datetime.now(UTC).isoformat(), "run_id": RUN_ID, "owner": owner}
            deps.state.set_flag(HEARTBEAT_FLAG, json.dumps(beat))

            def client_of(venue: str) -> VenueClient:
                return _client(server.base_url, venue)

            reports, failed = asyncio.run(reconcile_all(deps, [BUY, SELL], client_of))
            assert not failed and _cross(reports).skipped == [KEY]  # its engine lives: not touched
            execution = find_execution(deps.engine, KEY)
            assert execution is not None and execution.status == "sending"
            sell = next(o for o in orders_of_execution(deps.engine, execution.id) if o.leg == "sell")
            assert not sell.is_final  # not even looked up: the live engine may still be sending it

            engine_process.kill()  # the engine dies; its heartbeat is still fresh
            engine_process.wait()
            reports, failed = asyncio.run(reconcile_all(deps, [BUY, SELL], client_of))
            assert not failed and _cross(reports).executions_repaired == [KEY]
    finally:
        if engine_process.poll() is None:
            engine_process.kill()
            engine_process.wait()
    execution = find_execution(deps.engine, KEY)
    assert execution is not None and execution.status == "repaired"
    orders = orders_of_execution(deps.engine, execution.id)
    assert all(o.is_final for o in orders) and next(o for o in orders if o.leg == "sell").status != "abandoned"
    net = sum((o.filled if o.side is Side.BUY else -o.filled for o in orders), Decimal(0))
    assert abs(net) < Decimal("0.001")
