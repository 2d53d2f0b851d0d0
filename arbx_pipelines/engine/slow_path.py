"""The slow path of spot arbitrage (Dagster's ``execute_spot_arbitrage``): spreads that last long enough for a run
to start, and manual runs. Re-reads both books and wallets over REST, re-validates with the same detection as the
engine and, if the spread is still there, sends it through the engine's executor (same records, same protocol)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.spread import SpreadQuote, best_spread
from arbx_pipelines.engine.detector import DetectionLimits, Opportunity
from arbx_pipelines.engine.executor import Executor, ExecutorSettings
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.risk_state import load_risk_state
from arbx_pipelines.venues.client import VenueClient


@dataclass(frozen=True)
class SlowOutcome:
    status: str  # done, flattened, failed, no_spread, halted
    detail: str


def top_edge_rate(ask: Decimal, bid: Decimal, fee_buy: Decimal, fee_sell: Decimal) -> Decimal:
    """Net rate of buying one coin at ``ask`` and selling it at ``bid`` after taker fees (the sensor's screen)."""
    return bid * (1 - fee_sell) / (ask * (1 + fee_buy)) - 1


async def execute_once(
    deps: ExecutionDeps,
    clients: Mapping[str, VenueClient],
    symbol: str,
    buy_venue: str,
    sell_venue: str,
    limits: DetectionLimits,
    settings: ExecutorSettings,
) -> SlowOutcome:
    risk = load_risk_state(deps.engine)
    if risk.kill_switch or risk.breaker_open:
        return SlowOutcome("halted", "kill switch" if risk.kill_switch else "circuit breaker open")
    buy_client, sell_client = clients[buy_venue], clients[sell_venue]
    buy_info, sell_info = await buy_client.market(symbol), await sell_client.market(symbol)
    asks = (await buy_client.order_book(symbol, 20)).asks
    bids = (await sell_client.order_book(symbol, 20)).bids
    base, quote_asset = symbol.split("/")
    buy_wallet = await buy_client.balances(MarketType.SPOT)
    sell_wallet = await sell_client.balances(MarketType.SPOT)
    quote_free = buy_wallet[quote_asset].free if quote_asset in buy_wallet else Decimal(0)
    base_free = sell_wallet[base].free if base in sell_wallet else Decimal(0)
    if not asks:
        return SlowOutcome("no_spread", "empty book")
    result = best_spread(asks, bids, buy_info.taker_fee or Decimal("0.001"), sell_info.taker_fee or Decimal("0.001"),
                         min_profit_rate=limits.min_profit_rate, min_profit=limits.min_profit,
                         max_amount=min(base_free, limits.max_trade_quote / asks[0][0]), max_buy_quote=quote_free,
                         buy_rules=buy_info.rules, sell_rules=sell_info.rules)  # fmt: skip
    if not isinstance(result, SpreadQuote):
        return SlowOutcome("no_spread", f"{result.reason}: {result.detail}")
    stats = EngineStats()
    markets = {(buy_venue, symbol): buy_info, (sell_venue, symbol): sell_info}
    executor = Executor(deps, clients, markets, stats, settings, reserve=lambda *_: None, release=lambda *_: None,
                        may_enter=lambda: True)  # fmt: skip
    try:
        await executor.arbitrage(Opportunity(symbol, buy_venue, sell_venue, result, time.perf_counter()), 1)
    finally:
        executor.close()
    if stats.succeeded:
        return SlowOutcome("done", f"bought and sold {result.amount} (expected profit {result.profit:.4f})")
    if stats.flattened:
        return SlowOutcome("flattened", "a leg filled short; the difference was flattened")
    return SlowOutcome("failed", "a leg's outcome is unknown; reconcile settles it")
