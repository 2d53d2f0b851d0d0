"""The engine end to end against the simulator (streams, dislocations, real ccxt clients, SQLite records): every
arbitrage is recorded with both intents first, no order is left unsettled, and the P&L from the recorded fills equals
the change of the venues' wallets to the cent."""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from pathlib import Path

from arbx_pipelines.bench import spot
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.executions import unfinished_executions
from arbx_pipelines.storage.orders import orders_of_execution
from arbx_pipelines.venues.sim.server import SimServer


def test_engine_trades_dislocations_and_its_records_match_the_venues(tmp_path: Path) -> None:
    args = argparse.Namespace(seed=11, every_ms=3000, latency_ms=5.0)
    settings = spot.sim_settings(args.seed, args.every_ms, args.latency_ms)
    url = f"sqlite:///{tmp_path / 'engine.db'}"
    with SimServer(settings) as server:
        prices = spot._fund(server.base_url)
        before = spot._holdings(server.base_url)
        summary = asyncio.run(spot._run_engine(server.base_url, url, 8.0))
        after = spot._holdings(server.base_url)
    engine = make_engine(url)
    venue_pnl = spot._value({a: after.get(a, Decimal(0)) - before.get(a, Decimal(0)) for a in after | before}, prices)
    assert int(str(summary["arbitrages"])) >= 1
    assert spot.realized_from_fills(engine, prices).quantize(spot.CENT) == venue_pnl.quantize(spot.CENT)
    assert int(str(summary["max_pending_per_venue"])) <= 3
    for venue in ("binance", "okx", "bitget"):
        assert [e for e in unfinished_executions(engine, venue) if e.kind == SPOT_ARB_KIND] == []
    from arbx_pipelines.storage.executions import find_execution

    first = find_execution(engine, "spot-bench-1")
    assert first is not None and first.kind == SPOT_ARB_KIND
    legs = {o.leg for o in orders_of_execution(engine, first.id)}
    assert {"buy", "sell"} <= legs
