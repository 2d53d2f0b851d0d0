"""The engine's inventory follows the venues' wallets, also when a venue stops listing a coin it no longer holds
(OKX and Bitget leave zero balances out): a stale balance made it sell coins the venue did not have."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from arbx_pipelines.core.decision_inputs import StrategyParams
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import ExecutorSettings
from arbx_pipelines.engine.service import SpotEngine
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import Position
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings

VENUES = (Venue.BINANCE, Venue.OKX, Venue.BITGET)


async def _eth_after_selling_out(base_url: str, url: str) -> list[tuple[Decimal, Decimal]]:
    engine = make_engine(url, low_latency=True)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine), venues=VENUES)
    clients = {str(v): make_client(v, Mode.SIM, sim_url=base_url, rate_limit_ms=1) for v in VENUES}
    limits = DetectionLimits(Decimal("0.001"), Decimal("0.05"), Decimal("300"))
    spot = SpotEngine(deps, clients, {}, ["ETH/USDT"], limits, ExecutorSettings())
    admin = SimAdmin(base_url)
    seen = []
    try:
        for amount in ("1.5", "0"):
            for venue in clients:
                admin.call("POST", f"/venues/{venue}/balance", {"wallet": "spot", "asset": "ETH", "amount": amount})
                await spot.refresh_balances(venue)
            seen += [(spot.balances[(venue, "ETH")], spot.free()[(venue, "ETH")]) for venue in clients]
    finally:
        spot.writers.close()
        await asyncio.gather(*(c.close() for c in clients.values()))
    return seen


def test_a_coin_the_venue_no_longer_lists_counts_as_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    upgrade(url)
    with SimServer(SimSettings(port=0, seed=3, history_dir=None)) as server:
        seen = asyncio.run(_eth_after_selling_out(server.base_url, url))
    held, sold_out = seen[:3], seen[3:]
    assert held == [(Decimal("1.5"), Decimal("1.5"))] * 3
    assert sold_out == [(Decimal(0), Decimal(0))] * 3


async def _eth_beside_hedges(base_url: str, url: str) -> dict[str, Decimal]:
    engine = make_engine(url, low_latency=True)
    with transaction(engine) as session:  # a positive-funding hedge holding 0.4 ETH in Binance's spot wallet
        now = datetime.now(UTC)
        hedge = Position(venue="binance", symbol="ETH/USDT:USDT", spot_symbol="ETH/USDT", direction="positive",
                         status="open", perp_amount=Decimal("0.4"), spot_amount=Decimal("0.4"), leverage=2,
                         fees_paid=Decimal(0), funding_received=Decimal(0), opened_at=now, updated_at=now)  # fmt: skip
        session.add(hedge)
    strategy = StrategyParams(spot_inventory={Venue.OKX: {"ETH": Decimal("0.3")}})  # for negative-funding hedges
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine), venues=VENUES,
                         strategy=strategy)  # fmt: skip
    clients = {str(v): make_client(v, Mode.SIM, sim_url=base_url, rate_limit_ms=1) for v in VENUES}
    spot = SpotEngine(deps, clients, {}, ["ETH/USDT"], DetectionLimits(Decimal("0.001"), Decimal("0.05"),
                                                                      Decimal("300")), ExecutorSettings())  # fmt: skip
    admin = SimAdmin(base_url)
    try:
        for venue in clients:
            admin.call("POST", f"/venues/{venue}/balance", {"wallet": "spot", "asset": "ETH", "amount": "1.5"})
            await spot.refresh_balances(venue)
        return {venue: spot.free()[(venue, "ETH")] for venue in clients}
    finally:
        spot.writers.close()
        await asyncio.gather(*(c.close() for c in clients.values()))


def test_the_engine_never_trades_the_coins_a_funding_hedge_needs(tmp_path: Path) -> None:
    """In sim mode the funding hedges and the engine share coins (BTC, ETH, ...): a hedge's spot leg and the
    inventory declared for negative funding are left out of what the engine may sell."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    upgrade(url)
    with SimServer(SimSettings(port=0, seed=3, history_dir=None)) as server:
        free = asyncio.run(_eth_beside_hedges(server.base_url, url))
    assert free == {"binance": Decimal("1.1"), "okx": Decimal("1.2"), "bitget": Decimal("1.5")}
