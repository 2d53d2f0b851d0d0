"""Sending spot arbitrages: both IOC legs at once, a leg imbalance flattened at once, everything recorded first.

Each arbitrage is an execution of kind ``spot_arb`` in the same tables as the funding path: its two intents are
recorded (deterministic client order ids from the execution key) before anything is sent, the legs go out together
through :func:`~arbx_pipelines.execution.protocol.send_order` (look-up before any retry) and their fills are stored.
If the legs filled different amounts the excess is flattened at once (sell back on the buy venue, or buy back on
the sell venue), recorded as a further intent of the same execution. An order of unknown outcome, or a crash, leaves
the execution unfinished for reconcile, which settles every order by client order id from the venue.

Scheduling: opportunities wait in a queue ordered by expected profit; at most ``max_in_flight`` arbitrages run at
once, each bounded by ``task_timeout_s``; the venue slots keep at most N orders pending per venue; one still queued
``STALE_S`` after its book update is dropped. The path from a book update to both orders is synchronous on
purpose: detection offers its opportunities and starts them in the same step, the intents of all of them are
recorded in one transaction (on SQLite right on the event loop, ahead of queued writes, once the write the writer
thread may be running has ended), and the legs are handed to the order protocol right after the commit, before
anything else runs on the loop. No task has to be scheduled in between (that costs a turn of the loop, behind every
book update queued).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.models import Side
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.detector import Opportunity, order_limits
from arbx_pipelines.engine.journal import BackgroundJournal, DbWriters
from arbx_pipelines.engine.legs import flatten, spot_intent, store_fills
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.protocol import SentOrder, send_order
from arbx_pipelines.execution.risk_state import count_execution_result
from arbx_pipelines.execution.sending import timing
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import set_execution_status
from arbx_pipelines.storage.spot_arbitrage import (
    ArbitrageIntent,
    ImpatientIntentWriter,
    abandon_arbitrage,
    record_arbitrage_intents,
    rehearse_arbitrage_intents,
)
from arbx_pipelines.venues.client import VenueClient

log = get_logger("arbx.engine.executor")
SPOT_ARB_KIND = "spot_arb"
#: the ``venue`` of a spot arbitrage execution: it spans two venues (``planned`` names them), so the per-venue
#: reconcile settles its orders (each by its own venue) but leaves finishing the execution to :mod:`.repair`
CROSS_VENUE = "cross"
#: an opportunity queued this long (no slot was free when its book update offered it) is dropped when a slot frees
#: up: sent then, its orders would go out on a book tens of milliseconds old (a slot frees every few tens of ms at
#: most); if the spread is still there, the next update of either book detects it afresh
STALE_S = 0.002
#: how long an intent waits, on the event loop, for a write the writer thread is running (commits take about a
#: millisecond) before it is queued on the writer instead
INLINE_WAIT_S = 0.02
#: an arbitrage whose intent is committed later than this after its book update is not sent (its intents are
#: abandoned): by the time its IOC orders reached the venues the book they were priced on would likely be gone
#: (``spread.send_deadline_ms``)
SEND_DEADLINE_S = 0.05


@dataclass(frozen=True)
class ExecutorSettings:
    max_in_flight: int = 5
    task_timeout_s: float = 20.0
    run_id: str = "engine"
    #: the detection's min profit rate: order limits keep it even when both legs fill at their limits
    min_profit_rate: Decimal = Decimal("0.002")
    send_deadline_s: float = SEND_DEADLINE_S


@dataclass(frozen=True)
class Plan:
    """One arbitrage's execution key, its two IOC intents and what it expects (the execution's ``planned``)."""

    key: str
    buy: OrderIntent
    sell: OrderIntent
    planned: dict[str, str]


@dataclass(frozen=True)
class _Sending:
    """An arbitrage whose intents are committed: its legs on their way (None: held back, too late to send)."""

    plan: Plan
    execution_id: int
    sent_at: float
    journal: BackgroundJournal | None
    legs: asyncio.Future[tuple[tuple[SentOrder, float], tuple[SentOrder, float]]] | None


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
        writers: DbWriters | None = None,
        fits: Callable[[Opportunity], bool] = lambda _: True,
    ) -> None:
        self.deps = deps
        self.clients = clients
        self.markets = markets
        self.stats = stats
        self.settings = settings
        self._reserve, self._release, self._may_enter, self._fits = reserve, release, may_enter, fits
        self._queue: list[tuple[Decimal, int, float, Opportunity]] = []
        self._counter = itertools.count()
        self._numbers = itertools.count(1)
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[tuple[str, str, str]] = set()
        self.writers = writers or DbWriters.for_engine(deps.engine)
        self._impatient = ImpatientIntentWriter(deps.engine)

    def offer(self, opportunity: Opportunity) -> None:
        """Queue an opportunity; :meth:`start_ready` (called by the engine after each book update's detection)
        starts the best ones at once, without waiting for another turn of the event loop."""
        entry = (-opportunity.expected_profit, next(self._counter), time.perf_counter(), opportunity)
        heapq.heappush(self._queue, entry)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self.start_ready()

    def start_ready(self) -> None:
        """Start queued opportunities, best first, while there is room: the intents of all those started together
        (one book update can start several) are recorded here in one transaction, and once committed their legs
        are handed to the order protocol right away, in this same step when the intents were written inline (no
        turn of the event loop between the book update and the orders), else in the loop's next step after the
        writer thread commits them."""
        now = time.perf_counter()
        starting: list[tuple[Opportunity, int, Plan]] = []
        while self._queue and len(self._tasks) + len(starting) < self.settings.max_in_flight:
            _, _, offered_at, opportunity = heapq.heappop(self._queue)
            pair = (opportunity.symbol, opportunity.buy_venue, opportunity.sell_venue)
            if now - offered_at > STALE_S or pair in self._busy or not self._may_enter():
                continue
            if not self._fits(opportunity):  # an opportunity started before it took the coins or quote it counted on
                continue
            number = next(self._numbers)
            try:
                plan = self.plan(opportunity, number)
            except Exception:  # a market rule the quote cannot meet: skip it, keep watching books
                log.exception("arbitrage not planned", extra={"symbol": opportunity.symbol})
                continue
            self._busy.add(pair)
            self._reserve(opportunity, number)
            starting.append((opportunity, number, plan))
        if not starting:
            return
        loop = asyncio.get_running_loop()
        recorded = self._record([plan for _, _, plan in starting], starting[0][1])
        batch: list[tuple[Opportunity, int, Plan, asyncio.Future[_Sending]]] = []
        for opportunity, number, plan in starting:
            ready: asyncio.Future[_Sending] = loop.create_future()
            task = asyncio.create_task(self._guarded(opportunity, number, ready))
            self._tasks.add(task)
            batch.append((opportunity, number, plan, ready))
        if recorded.done():
            self._launch(recorded, batch)
        else:  # one wake-up of the loop once committed, straight into the sends
            recorded.add_done_callback(lambda done: loop.call_soon_threadsafe(self._launch, done, batch))
        self.stats.in_flight = len(self._tasks)
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    def _launch(
        self, recorded: Future[list[int]], batch: list[tuple[Opportunity, int, Plan, asyncio.Future[_Sending]]]
    ) -> None:
        """The committed intents' legs handed to the order protocol, each arbitrage's task then finishing it."""
        for index, (opportunity, number, plan, ready) in enumerate(batch):
            if ready.done():  # its task was cancelled meanwhile
                continue
            error = recorded.exception()
            if error is not None:
                ready.set_exception(error)
                continue
            deadline = opportunity.detected_at + self.settings.send_deadline_s
            ready.set_result(self._send(opportunity, number, plan, recorded.result()[index], deadline))

    def plan(self, opportunity: Opportunity, number: int) -> Plan:
        quote = opportunity.quote
        key = f"spot-{self.settings.run_id}-{number}"
        buy_info = self.markets[(opportunity.buy_venue, opportunity.symbol)]
        sell_info = self.markets[(opportunity.sell_venue, opportunity.symbol)]
        limits = order_limits(quote, self.settings.min_profit_rate, self.deps.settings.max_slippage, buy_info,
                              sell_info)  # fmt: skip
        planned = {"amount": str(quote.amount), "buy_venue": opportunity.buy_venue,
                   "sell_venue": opportunity.sell_venue, "buy_vwap": str(quote.buy_vwap),
                   "sell_vwap": str(quote.sell_vwap), "expected_profit": str(quote.profit),
                   "notional": str(quote.buy_cost), "buy_limit": str(limits.buy),
                   "sell_limit": str(limits.sell)}  # fmt: skip
        return Plan(key, spot_intent(key, "buy", buy_info, Side.BUY, quote.amount, limits.buy),
                    spot_intent(key, "sell", sell_info, Side.SELL, quote.amount, limits.sell), planned)  # fmt: skip

    def warm(self) -> None:
        """The intent statements compiled ahead of the first arbitrage (a rehearsal, rolled back)."""
        if not self.markets:
            return
        info = next(iter(self.markets.values()))
        key = f"spot-{self.settings.run_id}-warm-up"
        intents = [spot_intent(key, leg, info, side, Decimal(1), Decimal(1)) for leg, side in
                   (("buy", Side.BUY), ("sell", Side.SELL))]  # fmt: skip
        rehearse_arbitrage_intents(self.deps.engine, [ArbitrageIntent(key, info.symbol, {"warm_up": "1"}, intents)],
                                   kind=SPOT_ARB_KIND, venue=CROSS_VENUE, run_id=self.settings.run_id)  # fmt: skip

    def _record(self, plans: list[Plan], number: int) -> Future[list[int]]:
        """The plans' intents and executions, in one transaction: on SQLite (one writer) right here, ahead of the
        queued writes, once the write the writer thread is running (if any) has ended, unless another process holds
        the write lock; else on task ``number``'s writer, ahead of queued writes. Their execution ids, in order."""
        arbitrages = [ArbitrageIntent(plan.key, plan.buy.symbol, plan.planned, [plan.buy, plan.sell]) for plan in plans]
        record = functools.partial(record_arbitrage_intents, self.deps.engine, arbitrages, kind=SPOT_ARB_KIND,
                                   venue=CROSS_VENUE, run_id=self.settings.run_id)  # fmt: skip
        writer = self.writers.for_task(number)
        if self.writers.single and ImpatientIntentWriter.usable(self.deps.engine):
            impatient = functools.partial(self._impatient.record, arbitrages, kind=SPOT_ARB_KIND, venue=CROSS_VENUE,
                                          run_id=self.settings.run_id)  # fmt: skip
            inline = writer.run_inline(impatient, wait_s=INLINE_WAIT_S)
            if inline is not None and inline.exception() is None:
                self.stats.intents_inline += len(plans)
                return inline
        return writer.submit(record, urgent=True)

    async def _guarded(self, opportunity: Opportunity, number: int, ready: asyncio.Future[_Sending]) -> None:
        sending: _Sending | None = None
        try:
            async with asyncio.timeout(self.settings.task_timeout_s):
                sending = await ready
                await self._finish(opportunity, number, sending)
        except Exception:
            log.exception("arbitrage failed", extra={"symbol": opportunity.symbol})
            self.stats.failed += 1
            await self.writers.run(lambda: count_execution_result(self.deps.engine, self.deps.limits, False))
        finally:
            if sending is None and ready.done() and not ready.cancelled() and ready.exception() is None:
                sending = ready.result()  # handed over, but this task was cancelled before it took it
            if sending is not None and sending.legs is not None and not sending.legs.done():
                sending.legs.cancel()
            self._busy.discard((opportunity.symbol, opportunity.buy_venue, opportunity.sell_venue))
            self._release(opportunity, number)
            self._tasks = {t for t in self._tasks if not t.done() and t is not asyncio.current_task()}
            self.stats.in_flight = len(self._tasks)
            self.start_ready()

    async def arbitrage(
        self, opportunity: Opportunity, number: int, plan: Plan | None = None, *, send_deadline: float | None = None
    ) -> None:
        """Record both intents, send both legs at once (unless the intents were committed after ``send_deadline``,
        a ``perf_counter`` instant), flatten an imbalance at once, then store the fills and the outcome."""
        plan = plan or self.plan(opportunity, number)
        recorded = self._record([plan], number)
        # written already (inline): no trip through the loop for the result
        ids = recorded.result() if recorded.done() else await asyncio.wrap_future(recorded)
        sending = self._send(opportunity, number, plan, ids[0], send_deadline)
        try:
            await self._finish(opportunity, number, sending)
        finally:
            if sending.legs is not None and not sending.legs.done():
                sending.legs.cancel()

    def _send(
        self, opportunity: Opportunity, number: int, plan: Plan, execution_id: int, send_deadline: float | None
    ) -> _Sending:
        """Synchronous from the committed intents to both legs handed to the order protocol (each a task of its
        own, started together): no await in between, so nothing else runs on the loop meanwhile. Not sent when the
        intents were committed after ``send_deadline``."""
        crash_point("intent.committed")
        sent_at = time.perf_counter()
        # every arbitrage ready to send counts in the figure, also one then held back as too late
        self.stats.detect_to_send_ms.append((sent_at - opportunity.detected_at) * 1000)
        if send_deadline is not None and sent_at > send_deadline:
            return _Sending(plan, execution_id, sent_at, None, None)
        journal = BackgroundJournal(self.deps.engine, self.writers.for_task(number))
        protocol_timing = timing(self.deps)
        self.stats.started += 1
        self.stats.expected_profit += opportunity.quote.profit

        async def leg(intent: OrderIntent) -> tuple[SentOrder, float]:
            result = await send_order(self.clients[str(intent.venue)], intent, journal, self.deps.slots,
                                      protocol_timing)  # fmt: skip
            answered = time.perf_counter()
            self.stats.order_ms.append((answered - sent_at) * 1000)
            return result, answered

        legs = asyncio.gather(leg(plan.buy), leg(plan.sell))
        return _Sending(plan, execution_id, sent_at, journal, legs)

    async def _finish(self, opportunity: Opportunity, number: int, sending: _Sending) -> None:
        """Wait for both legs, flatten an imbalance at once, then store the fills and the outcome."""
        quote = opportunity.quote
        plan, execution_id = sending.plan, sending.execution_id
        writer = self.writers.for_task(number)
        if sending.legs is None or sending.journal is None:
            ready_ms = (sending.sent_at - opportunity.detected_at) * 1000
            reason = f"not sent: ready {ready_ms:.0f} ms after its book update"
            await writer.run(lambda: abandon_arbitrage(self.deps.engine, execution_id, plan.buy, plan.sell, reason))
            self.stats.skipped += 1
            return
        journal = sending.journal
        (bought, bought_at), (sold, sold_at) = await sending.legs
        excess = bought.filled - sold.filled
        balanced_at = max(bought_at, sold_at)
        known = bought.known and sold.known
        if known and excess != 0:  # flattened before anything else: the exposure lasts as short as it can
            info = self.markets[(opportunity.buy_venue if excess > 0 else opportunity.sell_venue, opportunity.symbol)]
            await flatten(self.deps, self.clients[str(info.venue)], plan.key, execution_id, info, excess,
                          writer=writer)  # fmt: skip
            balanced_at = time.perf_counter()
        fills_from = time.perf_counter()
        await journal.flush()
        await asyncio.gather(store_fills(self.deps, self.clients[opportunity.buy_venue], bought, writer),
                             store_fills(self.deps, self.clients[opportunity.sell_venue], sold, writer))  # fmt: skip
        self.stats.fills_ms.append((time.perf_counter() - fills_from) * 1000)
        if not known:
            await writer.run(lambda: set_execution_status(self.deps.engine, execution_id, "unknown",
                                                          "a leg's outcome is unknown"))  # fmt: skip
            self.stats.failed += 1
            await self.writers.run(lambda: count_execution_result(self.deps.engine, self.deps.limits, False))
            return
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
        await writer.run(lambda: set_execution_status(self.deps.engine, execution_id, status, error))
        crash_point("execution.committed")
        await self.writers.run(lambda: count_execution_result(self.deps.engine, self.deps.limits, counted))

    def close(self) -> None:
        """Close the database writers and the connection of the intents written on the loop."""
        self.writers.close()
        self._impatient.close()

    async def drain(self) -> None:
        """Wait for the running arbitrages to end (no new ones start once entries are off)."""
        self._queue.clear()
        while running := [t for t in self._tasks if not t.done()]:
            await asyncio.gather(*running, return_exceptions=True)
