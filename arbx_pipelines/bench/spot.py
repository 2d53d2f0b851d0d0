"""``arbx bench spot``: the spot engine against the simulated venues with injected network latency.

The simulator runs its seeded dislocation generator (short-lived cross-venue spreads) with every venue request
delayed by ``--latency-ms``; each venue's spot wallet holds USDT and the traded coins. The engine runs for
``--seconds``; then:

* ``success_rate``: arbitrages whose both legs filled as planned / all arbitrages (sent); ``skipped``: arbitrages
  recorded but not sent, their intents committed more than ``executor.SEND_DEADLINE_S`` after the book update;
* ``orders_p95_ms``: placement (send -> venue answer) per order; ``detect_to_send_p99_ms``: book update -> both
  intents recorded and handed to the order protocol, inside the engine (skipped ones included);
  ``intents_inline``: arbitrages whose intents were written on the event loop (the writer idle), not via its thread;
* ``max_in_flight`` / ``max_pending_per_venue``: the most arbitrages, and orders pending on one venue, at once;
* ``realized_pnl`` (from the recorded fills) and ``venue_pnl`` (from the venues' wallets), coins valued at one
  price each, so the two must agree to the cent;
* ``naked_after_s``: the longest one-legged exposure (first leg answered -> both legs equal again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import tempfile
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.engine.books import stream_client
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import SPOT_ARB_KIND, ExecutorSettings
from arbx_pipelines.engine.service import SpotEngine
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.pg_schema import empty_schema
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.spot_arbitrage import fills_of_kind
from arbx_pipelines.storage.state import DatabaseState, StateStore
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import SimSettings

VENUES = ("binance", "okx", "bitget")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT")
COIN_USDT = Decimal("1500")
QUOTE_USDT = Decimal("5000")
CENT = Decimal("0.01")


def _dislocations(every_ms: int) -> dict[str, Any]:
    return {"enabled": True, "coins": [s.split("/")[0] for s in SYMBOLS], "every_ms": every_ms, "min_bps": 30,
            "max_bps": 70, "min_ms": 800, "max_ms": 2500}  # fmt: skip


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _fund(base_url: str) -> dict[str, Decimal]:
    """Spot wallets: QUOTE_USDT and COIN_USDT worth of each coin on every venue; returns each coin's price."""
    admin = SimAdmin(base_url)
    prices: dict[str, Decimal] = {}
    for symbol in SYMBOLS:
        coin = symbol.split("/")[0]
        ticker = _get(f"{base_url}/binance/api/v3/ticker/bookTicker?symbol={coin}USDT")
        prices[coin] = ((Decimal(ticker["bidPrice"]) + Decimal(ticker["askPrice"])) / 2).quantize(CENT)
    for venue in VENUES:
        admin.call("POST", f"/venues/{venue}/balance", {"wallet": "spot", "asset": "USDT", "amount": str(QUOTE_USDT)})
        for coin, price in prices.items():
            amount = (COIN_USDT / price).quantize(Decimal("0.0001"))
            admin.call("POST", f"/venues/{venue}/balance", {"wallet": "spot", "asset": coin, "amount": str(amount)})
    return prices


def _holdings(base_url: str) -> dict[str, Decimal]:
    admin = SimAdmin(base_url)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for venue in VENUES:
        for asset, balance in admin.account(venue)["wallets"]["spot"].items():
            totals[asset] += Decimal(str(balance["free"])) + Decimal(str(balance["locked"]))
    return dict(totals)


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


async def _run_engine(base_url: str, database_url: str, seconds: float, redis_url: str | None = None) -> dict[str, Any]:
    upgrade(database_url)
    engine = make_engine(database_url, low_latency=True)
    state: StateStore = (
        RedisState.from_url(redis_url, prefix=f"arbx-bench-spot-{os.getpid()}:") if redis_url else DatabaseState(engine)
    )
    deps = ExecutionDeps(engine=engine, state=state, alerts=AlertSink(engine),
                         settings=ExecutionSettings(order_timeout_s=10.0, backoff_s=0.05),
                         venues=(Venue.BINANCE, Venue.OKX, Venue.BITGET))  # fmt: skip
    clients = {str(v): make_client(v, Mode.SIM, sim_url=base_url, rate_limit_ms=1) for v in deps.venues}
    streams = {str(v): stream_client(clients[str(v)].ccxt_id, Mode.SIM, base_url) for v in deps.venues}
    limits = DetectionLimits(min_profit_rate=Decimal("0.001"), min_profit=Decimal("0.05"),
                             max_trade_quote=Decimal("300"))  # fmt: skip
    spot = SpotEngine(
        deps,
        clients,
        streams,
        SYMBOLS,
        limits,
        ExecutorSettings(max_in_flight=6, run_id="bench", min_profit_rate=limits.min_profit_rate),
    )
    try:
        stats = await spot.run(seconds)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()), *(s.close() for s in streams.values()))
    summary = stats.summary()
    summary["max_pending_per_venue"] = max(deps.tracker.peak.values(), default=0)
    return summary


def _serve(settings: SimSettings, pipe: Connection) -> None:
    """The simulator in its own process, so the engine measured does not share an interpreter (GIL) with it."""
    server = SimServer(settings).start()
    pipe.send(server.base_url)
    pipe.recv()
    server.stop()


def sim_settings(seed: int, every_ms: int, latency_ms: float) -> SimSettings:
    return SimSettings(port=0, seed=seed, history_dir=None, dislocations=_dislocations(every_ms),
                       faults=({"kind": "latency", "latency_ms": latency_ms},))  # fmt: skip


@contextlib.contextmanager
def _database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database for the run: a SQLite file, or a new schema of the given PostgreSQL database (dropped after)."""
    if not url:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if not url.startswith("postgresql"):
        raise ValueError(f"--database-url must be a postgresql URL, got {url.split(':')[0]}")
    with empty_schema(url, prefix="bench_spot", id_length=10) as schema_url:
        yield schema_url


def run(args: argparse.Namespace) -> int:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(sim_settings(args.seed, args.every_ms, args.latency_ms), theirs))
    process.start()
    try:
        base_url = str(ours.recv())
        with tempfile.TemporaryDirectory() as workdir, _database(args.database_url, Path(workdir)) as database_url:
            prices = _fund(base_url)
            before = _holdings(base_url)
            summary = asyncio.run(_run_engine(base_url, database_url, args.seconds, args.redis_url))
            after = _holdings(base_url)
            realized = realized_from_fills(make_engine(database_url), prices)
    finally:
        ours.send("stop")
        process.join(timeout=30)
    venue_pnl = _value({a: after.get(a, Decimal(0)) - before.get(a, Decimal(0)) for a in after | before}, prices)
    result = {"latency_ms": args.latency_ms, "seconds": args.seconds, **summary,
              "realized_pnl": str(realized.quantize(CENT)), "venue_pnl": str(venue_pnl.quantize(CENT))}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        width = max(len(key) for key in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0
