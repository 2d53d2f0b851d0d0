"""Sending spot arbitrages: both IOC legs at once, a leg imbalance flattened at once, everything recorded first.

Each arbitrage is an execution of kind ``spot_arb`` in the same tables as the funding path: its two intents are
recorded (deterministic client order ids from the execution key) before anything is sent, the legs go out together
through :func:`~arbx_pipelines.execution.protocol.send_order` (look-up before any retry) and their fills are stored.
If the legs filled different amounts the excess is flattened at once (sell back on the buy venue, or buy back on
the sell venue), recorded as a further intent of the same execution. An order of unknown outcome, or a crash, leaves
the execution unfinished for reconcile, which settles every order by client order id from the venue.

Scheduling: opportunities wait in a queue ordered by expected profit; at most ``max_in_flight`` arbitrages run at
once, each bounded by ``task_timeout_s``; the venue slots keep at most N orders pending per venue.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.money import quantize_down
from arbx_pipelines.core.orders import OrderIntent, client_order_id, limit_price
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.detector import Opportunity, order_limits
from arbx_pipelines.engine.journal import BackgroundJournal, DbWriter, DbWriters
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.legs import READ_ATTEMPTS, read_with_retry, sync_fills, timing
from arbx_pipelines.execution.protocol import SentOrder, send_order
from arbx_pipelines.execution.risk_state import record_execution_result
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import record_intent, set_execution_status
from arbx_pipelines.storage.orders import DbOrderJournal, add_intents, record_order_fills
from arbx_pipelines.venues.client import VenueClient

log = get_logger("arbx.engine.executor")
SPOT_ARB_KIND = "spot_arb"
#: the ``venue`` of a spot arbitrage execution: it spans two venues (``planned`` names them), so the per-venue
#: reconcile settles its orders (each by its own venue) but leaves finishing the execution to :mod:`.repair`
CROSS_VENUE = "cross"
#: an opportunity older than this when a slot frees up is dropped (the book has moved on)
STALE_S = 0.3


@dataclass(frozen=True)
class ExecutorSettings:
    max_in_flight: int = 5
    task_timeout_s: float = 20.0
    run_id: str = "engine"
    #: the detection's min profit rate: order limits keep it even when both legs fill at their limits
    min_profit_rate: Decimal = Decimal("0.002")


def _intent(key: str, leg: str, info: MarketInfo, side: Side, amount: Decimal, price: Decimal) -> OrderIntent:
    return OrderIntent(execution_id=key, leg=leg, client_order_id=client_order_id(key, leg), venue=info.venue,
                       symbol=info.symbol, market_type=MarketType.SPOT, side=side, amount=amount, base_amount=amount,
                       limit_price=price)  # fmt: skip


class Executor:
    def __init__(
        self,
        deps: ExecutionDeps,
        clients: Mapping[str, VenueClient],
        markets: Mapping[tuple[str, str], MarketInfo],
        stats: EngineStats,
        settings: ExecutorSettings,
        *,
        reserve: Callable[[Opportunity, int], None],
        release: Callable[[Opportunity, int], None],
        may_enter: Callable[[], bool],
    ) -> None:
        self.deps = deps
        self.clients = clients
        self.markets = markets
        self.stats = stats
        self.settings = settings
        self._reserve, self._release, self._may_enter = reserve, release, may_enter
        self._queue: list[tuple[Decimal, int, Opportunity]] = []
        self._counter = itertools.count()
        self._numbers = itertools.count(1)
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[tuple[str, str, str]] = set()
        self.writers = DbWriters()

    def offer(self, opportunity: Opportunity) -> None:
        heapq.heappush(self._queue, (-opportunity.expected_profit, next(self._counter), opportunity))
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._start_ready()

    def _start_ready(self) -> None:
        now = time.perf_counter()
        while self._queue and len(self._tasks) < self.settings.max_in_flight:
            _, _, opportunity = heapq.heappop(self._queue)
            pair = (opportunity.symbol, opportunity.buy_venue, opportunity.sell_venue)
            if now - opportunity.detected_at > STALE_S or pair in self._busy or not self._may_enter():
                continue
            number = next(self._numbers)
            self._busy.add(pair)
            self._reserve(opportunity, number)
            task = asyncio.create_task(self._guarded(opportunity, number))
            self._tasks.add(task)
            self.stats.in_flight = len(self._tasks)
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    async def _guarded(self, opportunity: Opportunity, number: int) -> None:
        try:
            await asyncio.wait_for(self.arbitrage(opportunity, number), self.settings.task_timeout_s)
        except Exception:
            log.exception("arbitrage failed", extra={"symbol": opportunity.symbol})
            self.stats.failed += 1
            await self.writers.run(lambda: record_execution_result(self.deps.engine, self.deps.limits, False))
        finally:
            self._busy.discard((opportunity.symbol, opportunity.buy_venue, opportunity.sell_venue))
            self._release(opportunity, number)
            self._tasks = {t for t in self._tasks if not t.done() and t is not asyncio.current_task()}
            self.stats.in_flight = len(self._tasks)
            self._wake.set()

    async def arbitrage(self, opportunity: Opportunity, number: int) -> None:
        quote = opportunity.quote
        key = f"spot-{self.settings.run_id}-{number}"
        buy_info = self.markets[(opportunity.buy_venue, opportunity.symbol)]
        sell_info = self.markets[(opportunity.sell_venue, opportunity.symbol)]
        limits = order_limits(quote, self.settings.min_profit_rate, self.deps.settings.max_slippage, buy_info,
                              sell_info)  # fmt: skip
        buy = _intent(key, "buy", buy_info, Side.BUY, quote.amount, limits.buy)
        sell = _intent(key, "sell", sell_info, Side.SELL, quote.amount, limits.sell)
        planned = {"amount": str(quote.amount), "buy_venue": opportunity.buy_venue,
                   "sell_venue": opportunity.sell_venue, "buy_vwap": str(quote.buy_vwap),
                   "sell_vwap": str(quote.sell_vwap), "expected_profit": str(quote.profit),
                   "notional": str(quote.buy_cost), "buy_limit": str(limits.buy),
                   "sell_limit": str(limits.sell)}  # fmt: skip
        record = functools.partial(record_intent, self.deps.engine, key=key, kind=SPOT_ARB_KIND, venue=CROSS_VENUE,
                                   symbol=opportunity.symbol, planned=planned, intents=[buy, sell],
                                   run_id=self.settings.run_id)  # fmt: skip
        writer = self.writers.for_task(number)
        execution = await writer.run(record)
        crash_point("intent.committed")
        journal = BackgroundJournal(self.deps.engine, writer)
        protocol_timing = timing(self.deps)
        sent_at = time.perf_counter()
        self.stats.detect_to_send_ms.append((sent_at - opportunity.detected_at) * 1000)
        self.stats.started += 1
        self.stats.expected_profit += quote.profit

        async def leg(intent: OrderIntent) -> tuple[SentOrder, float]:
            result = await send_order(self.clients[str(intent.venue)], intent, journal, self.deps.slots,
                                      protocol_timing)  # fmt: skip
            answered = time.perf_counter()
            self.stats.order_ms.append((answered - sent_at) * 1000)
            return result, answered

        (bought, bought_at), (sold, sold_at) = await asyncio.gather(leg(buy), leg(sell))
        fills_from = time.perf_counter()
        await journal.flush()
        await asyncio.gather(
            self._store_fills(writer, opportunity.buy_venue, bought),
            self._store_fills(writer, opportunity.sell_venue, sold),
        )
        self.stats.fills_ms.append((time.perf_counter() - fills_from) * 1000)
        if not (bought.known and sold.known):
            await writer.run(lambda: set_execution_status(self.deps.engine, execution.id, "unknown",
                                                               "a leg's outcome is unknown"))  # fmt: skip
            self.stats.failed += 1
            await self.writers.run(lambda: record_execution_result(self.deps.engine, self.deps.limits, False))
            return
        excess = bought.filled - sold.filled
        balanced_at = max(bought_at, sold_at)
        if excess != 0:
            await self._flatten(key, execution.id, buy_info if excess > 0 else sell_info, excess)
            balanced_at = time.perf_counter()
        one_legged_from = min(bought_at, sold_at) if (bought.filled > 0 or sold.filled > 0) else balanced_at
        self.stats.naked_s.append(balanced_at - one_legged_from if excess != 0 else abs(bought_at - sold_at))
        success = bought.filled == quote.amount and sold.filled == quote.amount
        for sent, planned_vwap in ((bought, quote.buy_vwap), (sold, quote.sell_vwap)):
            if sent.state is not None and sent.state.average_price and sent.filled > 0:
                drift = (sent.state.average_price - planned_vwap) / planned_vwap * 10_000
                self.stats.slippage_bps.append(float(drift if sent.intent.side is Side.BUY else -drift))
        if success:
            self.stats.succeeded += 1
        else:
            self.stats.flattened += 1
        error = None if success else f"legs filled {bought.filled} / {sold.filled}; flattened"
        status = "done" if success else "failed"
        counted = success or (bought.filled == sold.filled == 0)
        await writer.run(lambda: set_execution_status(self.deps.engine, execution.id, status, error))
        crash_point("execution.committed")
        await self.writers.run(lambda: record_execution_result(self.deps.engine, self.deps.limits, counted))

    async def _store_fills(self, writer: DbWriter, venue: str, sent: SentOrder) -> None:
        """The order's trades (they carry the fees) read from the venue, stored on the writer thread."""
        state = sent.state
        if state is None or state.filled <= 0 or state.order_id is None:
            return
        client, order_id = self.clients[venue], state.order_id
        fills = []
        for _ in range(READ_ATTEMPTS):
            crash_point("fills.trades_sent")
            fills = await read_with_retry(
                self.deps, "order_trades", lambda: client.order_trades(state.symbol, order_id)
            )
            crash_point("fills.trades_answered")
            if sum((f.amount for f in fills), Decimal(0)) >= state.filled:
                break
            await asyncio.sleep(self.deps.settings.backoff_s)
        cid = sent.intent.client_order_id
        await writer.run(lambda: record_order_fills(self.deps.engine, cid, state, fills, None))
        crash_point("fills.committed")

    async def _flatten(self, key: str, execution_id: int, info: MarketInfo, excess: Decimal) -> None:
        await flatten(self.deps, self.clients[str(info.venue)], key, execution_id, info, excess)

    async def drain(self) -> None:
        """Wait for the running arbitrages to end (no new ones start once entries are off)."""
        self._queue.clear()
        while running := [t for t in self._tasks if not t.done()]:
            await asyncio.gather(*running, return_exceptions=True)


async def flatten(
    deps: ExecutionDeps, client: VenueClient, key: str, execution_id: int, info: MarketInfo, excess: Decimal,
    name: str = "flatten",
) -> SentOrder | None:  # fmt: skip
    """Undo the leg that filled more: sell ``excess`` coins back (> 0, on the buy venue) or buy ``-excess`` back
    (< 0, on the sell venue), as a recorded IOC intent of the same execution; None when below one lot."""
    side = Side.SELL if excess > 0 else Side.BUY
    step = info.rules.base_step
    amount = quantize_down(abs(excess), step) if step else abs(excess)
    if amount <= 0 or (info.rules.min_amount is not None and amount < info.rules.min_amount):
        return None
    book = await client.order_book(info.symbol, 5)
    reference = book.best_bid if side is Side.SELL else book.best_ask
    if reference is None:
        raise RuntimeError(f"{info.venue} {info.symbol}: empty book, cannot flatten {amount}")
    price = limit_price(reference, side, deps.settings.max_slippage * 3, info.rules)
    intent = _intent(key, f"{name}-{side}", info, side, amount, price)
    add_intents(deps.engine, execution_id, [intent])
    crash_point("correction.intent_committed")
    sent = await send_order(client, intent, DbOrderJournal(deps.engine), deps.slots, timing(deps))
    await sync_fills(deps, client, sent, None)
    log.warning("leg imbalance flattened", extra={"execution": key, "venue": str(Venue(info.venue)),
                                                    "amount": str(amount), "filled": str(sent.filled)})  # fmt: skip
    return sent
