"""``arbx bench spot``: the spot engine against the simulated venues with injected network latency.

The simulator runs its seeded dislocation generator (short-lived cross-venue spreads) with every venue request
delayed by ``--latency-ms``; each venue's spot wallet holds USDT and the traded coins. The engine runs for
``--seconds``; then:

* ``success_rate``: arbitrages whose both legs filled as planned / all arbitrages;
* ``orders_p95_ms``: placement (send -> venue answer) per order; ``detect_to_send_p99_ms``: book update -> both
  intents recorded and handed to the order protocol, inside the engine;
* ``max_in_flight`` / ``max_pending_per_venue``: the most arbitrages, and orders pending on one venue, at once;
* ``realized_pnl`` (from the recorded fills) and ``venue_pnl`` (from the venues' wallets), coins valued at one
  price each, so the two must agree to the cent;
* ``naked_after_s``: the longest one-legged exposure (first leg answered -> both legs equal again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.engine.books import stream_client
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import SPOT_ARB_KIND, ExecutorSettings
from arbx_pipelines.engine.service import SpotEngine
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.spot_arbitrage import fills_of_kind
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT")
COIN_USDT = Decimal("1500")
QUOTE_USDT = Decimal("5000")
CENT = Decimal("0.01")


def _dislocations(every_ms: int) -> dict[str, Any]:
    return {"enabled": True, "coins": [s.split("/")[0] for s in SYMBOLS], "every_ms": every_ms, "min_bps": 30,
            "max_bps": 70, "min_ms": 800, "max_ms": 2500}  # fmt: skip


def _fund(server: SimServer) -> dict[str, Decimal]:
    """Spot wallets: QUOTE_USDT and COIN_USDT worth of each coin on every venue; returns each coin's price."""
    prices: dict[str, Decimal] = {}

    def fund() -> None:
        for slot in server.simulator.venues.values():
            spot = slot.engine.account.wallets["spot"]
            from arbx_pipelines.venues.sim.accounts import Balance

            spot["USDT"] = Balance(free=QUOTE_USDT)
            for symbol in SYMBOLS:
                coin = symbol.split("/")[0]
                price = slot.engine.book(symbol, 5).mid
                prices.setdefault(coin, price.quantize(CENT))
                spot[coin] = Balance(free=(COIN_USDT / price).quantize(Decimal("0.0001")))

    server.call(fund)
    return prices


def _holdings(server: SimServer) -> dict[str, Decimal]:
    def read() -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for slot in server.simulator.venues.values():
            for asset, balance in slot.engine.account.wallets["spot"].items():
                totals[asset] += balance.free + balance.locked
        return dict(totals)

    result: dict[str, Decimal] = server.call(read)
    return result


def _value(amounts: dict[str, Decimal], prices: dict[str, Decimal]) -> Decimal:
    return sum((amount * (Decimal(1) if asset == "USDT" else prices.get(asset, Decimal(0)))
                for asset, amount in amounts.items()), Decimal(0))  # fmt: skip


def realized_from_fills(engine: Any, prices: dict[str, Decimal]) -> Decimal:
    flows: dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills_of_kind(engine, SPOT_ARB_KIND):
        base, quote = fill.symbol.split("/")
        sign = Decimal(1) if fill.side == "buy" else Decimal(-1)
        flows[base] += sign * fill.amount
        flows[quote] -= sign * fill.amount * fill.price
        if fill.fee_currency:
            flows[fill.fee_currency] -= fill.fee
    return _value(flows, prices)


async def _run_engine(server: SimServer, database_url: str, seconds: float) -> dict[str, Any]:
    upgrade(database_url)
    engine = make_engine(database_url)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine),
                         settings=ExecutionSettings(order_timeout_s=10.0, backoff_s=0.05),
                         venues=(Venue.BINANCE, Venue.OKX, Venue.BITGET))  # fmt: skip
    clients = {str(v): make_client(v, Mode.SIM, sim_url=server.base_url, rate_limit_ms=1) for v in deps.venues}
    streams = {str(v): stream_client(clients[str(v)].ccxt_id, Mode.SIM, server.base_url) for v in deps.venues}
    limits = DetectionLimits(min_profit_rate=Decimal("0.001"), min_profit=Decimal("0.05"),
                             max_trade_quote=Decimal("300"))  # fmt: skip
    spot = SpotEngine(deps, clients, streams, SYMBOLS, limits, ExecutorSettings(max_in_flight=6, run_id="bench"))
    try:
        stats = await spot.run(seconds)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()), *(s.close() for s in streams.values()))
    summary = stats.summary()
    summary["max_pending_per_venue"] = max(deps.tracker.peak.values(), default=0)
    return summary


def run(args: argparse.Namespace) -> int:
    settings = SimSettings(port=0, seed=args.seed, history_dir=None, dislocations=_dislocations(args.every_ms),
                           faults=({"kind": "latency", "latency_ms": args.latency_ms},))  # fmt: skip
    with tempfile.TemporaryDirectory() as workdir, SimServer(settings) as server:
        prices = _fund(server)
        before = _holdings(server)
        database_url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        summary = asyncio.run(_run_engine(server, database_url, args.seconds))
        after = _holdings(server)
        venue_pnl = _value({a: after.get(a, Decimal(0)) - before.get(a, Decimal(0)) for a in after | before}, prices)
        realized = realized_from_fills(make_engine(database_url), prices)
    result = {"latency_ms": args.latency_ms, "seconds": args.seconds, **summary,
              "realized_pnl": str(realized.quantize(CENT)), "venue_pnl": str(venue_pnl.quantize(CENT))}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        width = max(len(key) for key in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0
