"""An engine killed mid-arbitrage is finished from the venues' truth at the next start.

The sell venue accepts the sell order and then hangs (a ``timeout_after_accept`` fault), the arbitrage task is
cancelled while waiting (the kill), so the records show the sell as still sending. At the next start the repair looks
every unsettled order up by client order id, records what the venues did, flattens any coins left one-legged and
marks the execution repaired, with an alert.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from arbx_pipelines.bench import spot
from arbx_pipelines.core.models import Mode, Side, Venue
from arbx_pipelines.core.spread import evaluate_spread
from arbx_pipelines.engine.detector import Opportunity
from arbx_pipelines.engine.executor import SPOT_ARB_KIND, Executor, ExecutorSettings
from arbx_pipelines.engine.liveness import EngineLiveness
from arbx_pipelines.engine.repair import repair_spot_arbitrages
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.models import Alert
from arbx_pipelines.storage.orders import FILLS_PENDING, orders_of_execution
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings

pytestmark = pytest.mark.isolated  # signals and child processes: alone in a fresh process

SYMBOL = "ETH/USDT"
BUY, SELL = "binance", "okx"


async def _kill_mid_arbitrage_then_restart(base_url: str, url: str) -> str:
    engine = make_engine(url)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine),
                         settings=ExecutionSettings(order_timeout_s=10.0, backoff_s=0.05),
                         venues=(Venue.BINANCE, Venue.OKX))  # fmt: skip
    clients = {str(v): make_client(v, Mode.SIM, sim_url=base_url, rate_limit_ms=1) for v in deps.venues}
    try:
        markets = {(venue, SYMBOL): await client.market(SYMBOL) for venue, client in clients.items()}
        asks = (await clients[BUY].order_book(SYMBOL, 20)).asks
        bids = (await clients[SELL].order_book(SYMBOL, 20)).bids
        quote = evaluate_spread(asks, bids, Decimal("0.05"), Decimal("0.001"), Decimal("0.001"))
        executor = Executor(deps, clients, markets, EngineStats(), ExecutorSettings(run_id="crash"),
                            reserve=lambda *_: None, release=lambda *_: None, may_enter=lambda: True)  # fmt: skip
        SimAdmin(base_url).add_fault(kind="timeout_after_accept", venue=SELL, endpoint="POST /api/v5/trade/order",
                                     hang_ms=60000, times=1)  # fmt: skip
        task = asyncio.create_task(executor.arbitrage(Opportunity(SYMBOL, BUY, SELL, quote, 0.0), 1))
        deadline = time.monotonic() + 30
        while not _buy_answered(engine):  # bounded: a buy that never answers fails the test, never hangs it
            assert not task.done(), f"the arbitrage ended before its buy was answered: {task}"
            assert time.monotonic() < deadline, "the buy was not answered within 30 s"
            await asyncio.sleep(0.02)
        task.cancel()  # the kill: the sell's answer never arrives
        await asyncio.gather(task, return_exceptions=True)
        SimAdmin(base_url).clear_faults()
    finally:
        for client in clients.values():
            await client.close()
    restarted = {str(v): make_client(v, Mode.SIM, sim_url=base_url, rate_limit_ms=1) for v in deps.venues}
    try:
        # a young arbitrage of a live engine is left to it; once its engine is gone (the restart) it is repaired
        assert (await repair_spot_arbitrages(deps, restarted, liveness=EngineLiveness("crash", False))).skipped
        report = await repair_spot_arbitrages(deps, restarted, liveness=EngineLiveness("crash", True))
        (key,) = report.executions_repaired
    finally:
        for client in restarted.values():
            await client.close()
    return key


def _buy_answered(engine: Engine) -> bool:
    execution = find_execution(engine, "spot-crash-1")
    if execution is None:
        return False
    # answered: the venue's final state is recorded (``fills_pending`` until its trades are stored with it)
    answered = ("closed", FILLS_PENDING)
    return any(o.leg == "buy" and o.status in answered for o in orders_of_execution(engine, execution.id))


def test_killed_arbitrage_is_settled_from_the_venues_and_left_flat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(url)
    # a stepped clock: the books do not move between reading them and sending, so the buy fills the same every run
    settings = SimSettings(port=0, seed=5, history_dir=None, market_start_ms=REPRODUCIBLE_MARKET_START_MS,
                           clock_running=False)  # fmt: skip
    with SimServer(settings) as server:
        spot._fund(server.base_url)
        key = asyncio.run(_kill_mid_arbitrage_then_restart(server.base_url, url))
    engine = make_engine(url)
    execution = find_execution(engine, key)
    assert execution is not None and execution.kind == SPOT_ARB_KIND and execution.status == "repaired"
    orders = orders_of_execution(engine, execution.id)
    assert all(o.status in ("closed", "canceled", "expired", "abandoned") for o in orders), orders
    sell = next(o for o in orders if o.leg == "sell")
    assert sell.status != "abandoned"  # the venue had accepted it: found by client order id, not resent
    net = sum((o.filled if o.side is Side.BUY else -o.filled for o in orders), Decimal(0))
    assert abs(net) < Decimal("0.001")  # flat within a lot after the repair
    with transaction(engine) as session:
        kinds = set(session.execute(select(Alert.kind)).scalars())
    assert "execution_repaired" in kinds
