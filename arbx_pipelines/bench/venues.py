"""``arbx bench venues``: order round trip through stock ccxt to the simulated venues (p50/p95, goal p95 <= 20 ms),
and the funding rate of every perpetual on every venue, fetched concurrently (goal <= 2 s) beside a naive loop
of one request per symbol."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

from arbx_pipelines.bench.sim_process import sim_process
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient

ROUND_TRIP_GOAL_MS = 20.0
FUNDING_GOAL_S = 2.0
SYMBOL = "BTC/USDT:USDT"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _order_size(client: VenueClient, price: Decimal) -> Decimal:
    rules = (await client.market(SYMBOL)).rules
    step = rules.amount_step or Decimal("0.001")
    amount = rules.min_amount or step
    if rules.min_notional:
        needed = rules.min_notional * Decimal("1.1") / (price * rules.contract_size)
        amount = max(amount, (needed / step).to_integral_value(rounding=ROUND_CEILING) * step)
    return amount


class ThrottleClock:
    """Times ccxt's client-side rate-limit wait, so the venue round trip can be told apart from it.

    ccxt's leaky bucket does not credit idle time: every isolated request waits about ``rateLimit`` ms before it is
    sent (50 ms on Binance). The wrapper only measures; the limiter stays on.
    """

    def __init__(self, exchange: Any) -> None:
        self.waited = 0.0
        original = exchange.throttle

        async def timed(cost: Any = None) -> Any:
            started = time.perf_counter()
            try:
                return await original(cost)
            finally:
                self.waited += time.perf_counter() - started

        exchange.throttle = timed


async def order_round_trips(client: VenueClient, count: int) -> tuple[list[float], list[float]]:
    """Milliseconds per ``create_order`` (IOC limit crossing the book, alternating sides so the account stays flat):
    (round trips without ccxt's rate-limit wait, totals with it)."""
    book = await client.order_book(SYMBOL, 5)
    assert book.best_ask is not None and book.best_bid is not None
    amount = float(await _order_size(client, book.best_ask))
    clock = ThrottleClock(client.exchange)
    round_trips, totals = [], []
    for i in range(count):
        side = "buy" if i % 2 == 0 else "sell"
        price = float(book.best_ask * Decimal("1.01") if side == "buy" else book.best_bid * Decimal("0.99"))
        clock.waited = 0.0
        started = time.perf_counter()
        await client.exchange.create_order(SYMBOL, "limit", side, amount, price, {"timeInForce": "IOC"})
        total = time.perf_counter() - started
        totals.append(total * 1000)
        round_trips.append((total - clock.waited) * 1000)
    return round_trips, totals


async def concurrent_funding(clients: dict[Venue, VenueClient]) -> tuple[float, int]:
    started = time.perf_counter()
    answers = await asyncio.gather(*(c.funding_rates() for c in clients.values()))
    return time.perf_counter() - started, sum(len(a) for a in answers)


async def naive_funding(clients: dict[Venue, VenueClient], limit: int) -> tuple[float, int]:
    """One ``fetch_funding_rate`` per symbol, one after another (what a simple bot does)."""
    started, count = time.perf_counter(), 0
    for client in clients.values():
        symbols = [m.symbol for m in await client.perpetuals()]
        for symbol in symbols[: limit or None]:
            await client.exchange.fetch_funding_rate(symbol)
            count += 1
    return time.perf_counter() - started, count


async def _bench(base_url: str, venues: list[Venue], args: argparse.Namespace) -> int:
    clients = {v: make_client(v, Mode.SIM, sim_url=base_url) for v in venues}
    try:
        await asyncio.gather(*(c.markets() for c in clients.values()))
        worst = 0.0
        print(f"  order round trip through ccxt ({args.orders} IOC orders per venue, {SYMBOL}):")
        for venue, client in clients.items():
            timings, totals = await order_round_trips(client, args.orders)
            p50, p95 = statistics.median(timings), percentile(timings, 0.95)
            worst = max(worst, p95)
            print(f"    {venue.value:8} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {max(timings):6.1f} ms   "
                  f"(with ccxt's rate-limit wait: p50 {statistics.median(totals):.1f} ms, "
                  f"p95 {percentile(totals, 0.95):.1f} ms)")  # fmt: skip
        verdict = "meets" if worst <= ROUND_TRIP_GOAL_MS else "MISSES"
        print(f"    worst p95 {worst:.1f} ms: {verdict} the goal of <= {ROUND_TRIP_GOAL_MS:.0f} ms")
        seconds, rates = await concurrent_funding(clients)
        verdict = "meets" if seconds <= FUNDING_GOAL_S else "MISSES"
        print(f"  funding of every perpetual, venues concurrent: {rates} rates in {seconds:.3f} s "
              f"({verdict} the goal of <= {FUNDING_GOAL_S:.0f} s)")  # fmt: skip
        naive_s, naive_n = await naive_funding(clients, args.naive_limit)
        per_symbol = naive_s / max(naive_n, 1)
        projected = per_symbol * rates
        print(f"  naive loop, one request per symbol: {naive_n} rates in {naive_s:.3f} s "
              f"(projected {projected:.1f} s for all {rates})")  # fmt: skip
        print(f"  concurrent bulk fetch is {projected / seconds:.0f}x faster than the naive loop")
        return 0 if worst <= ROUND_TRIP_GOAL_MS and seconds <= FUNDING_GOAL_S else 1
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))


def run(args: argparse.Namespace) -> int:
    if args.orders < 2:
        raise ValueError("--orders must be at least 2")
    print("venues bench (simulated venues in their own process, stock ccxt async clients)")
    with sim_process() as (base_url, served):
        venues = [Venue(v) for v in served if v in {x.value for x in Venue}]
        print(f"  simulator {base_url}, venues: {', '.join(v.value for v in venues)}")
        return asyncio.run(_bench(base_url, venues, args))
