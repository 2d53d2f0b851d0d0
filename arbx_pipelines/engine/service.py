"""The engine process: books in, detection on each update, the executor out, a heartbeat in the state store.

Inventory is the venues' spot wallets (read at start and after each arbitrage) minus what running arbitrages have
reserved. New entries stop while the kill switch (``arbx halt``) or the circuit breaker is engaged; both are re-read
with every heartbeat.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.books import Warmup, watch_books
from arbx_pipelines.engine.detector import Book, DetectionLimits, Opportunity, detect
from arbx_pipelines.engine.executor import Executor, ExecutorSettings
from arbx_pipelines.engine.journal import DbWriters, WalCheckpointer
from arbx_pipelines.engine.liveness import HEARTBEAT_FLAG
from arbx_pipelines.engine.repair import repair_spot_arbitrages
from arbx_pipelines.engine.slots import OffLoopVenueSlots, Runner
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.inventory import committed_coins, declared_left
from arbx_pipelines.execution.lock_owner import this_owner
from arbx_pipelines.execution.risk_state import entries_stopped
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.positions import ACTIVE_STATUSES, PositionRecord, positions_with_status
from arbx_pipelines.storage.state import DatabaseState, StateStore, lock_token
from arbx_pipelines.venues.client import VenueClient

log = get_logger("arbx.engine")
#: how often the switches (kill switch, circuit breaker) are re-read
HEARTBEAT_S = 1.0
#: how often the heartbeat is written when nothing changed
BEAT_EVERY_S = 5.0
__all__ = ["HEARTBEAT_FLAG", "HEARTBEAT_S", "SpotEngine"]
SWITCH_INTERVAL_S = 0.0001


def _state_runner(state: StateStore, writers: DbWriters) -> Runner | None:
    """Where the venue slots' lock calls run: on the single SQLite writer when the state store is that database
    (one write lock; urgent, since a lock depends on no queued write), else on a worker thread."""
    if isinstance(state, DatabaseState) and state.engine.dialect.name == "sqlite" and writers.single:
        writer = writers.for_task(0)
        return lambda call: writer.run(call, urgent=True)
    return None


def freeze_startup_objects() -> None:
    """Move every object alive after start-up (modules, markets, clients: hundreds of thousands) out of the
    collector's reach (``gc.freeze``): a full collection otherwise walks them all, a pause of tens to hundreds of
    milliseconds on the event loop, between a book update and its orders if it strikes there."""
    gc.collect()
    gc.freeze()


class SpotEngine:
    def __init__(
        self,
        deps: ExecutionDeps,
        clients: Mapping[str, VenueClient],
        streams: Mapping[str, Any],
        symbols: Sequence[str],
        limits: DetectionLimits,
        settings: ExecutorSettings,
    ) -> None:
        self.writers = writers = DbWriters.for_engine(deps.engine)
        slots = OffLoopVenueSlots(deps.state, deps.settings.pending_orders_per_venue, tracker=deps.tracker,
                                  owner=this_owner(deps.run_id), run=_state_runner(deps.state, writers))  # fmt: skip
        self.slots = slots
        self.deps = deps = replace(deps, _slots=slots)
        self.clients = clients
        self.streams = streams
        self.symbols = tuple(symbols)
        self.limits = limits
        self.stats = EngineStats()
        self.markets: dict[tuple[str, str], MarketInfo] = {}
        self.balances: dict[tuple[str, str], Decimal] = {}
        self.reserved: dict[int, Opportunity] = {}
        self.books: dict[str, dict[str, Book]] = {symbol: {} for symbol in self.symbols}
        self.entries_allowed = True
        self.warmup = Warmup(())
        self.executor = Executor(deps, clients, self.markets, self.stats, settings, reserve=self._reserve,
                                 release=self._release, may_enter=lambda: self.entries_allowed,
                                 writers=writers, fits=self.fits)  # fmt: skip
        self._refreshes: set[asyncio.Task[None]] = set()
        self.repaired: list[str] = []
        #: names this engine in its heartbeat (run id, pid, host): reconcile finishes its arbitrages once it is gone
        self._owner = lock_token(this_owner(settings.run_id))
        self._balance_locks: dict[str, asyncio.Lock] = {}

    # ---- inventory ---------------------------------------------------------------------------------------------

    async def refresh_balances(self, venue: str) -> None:
        """Re-read a venue's spot wallet; reads of one venue run one after another, so an older read can never
        land after a newer one and hand out coins an arbitrage already used."""
        async with self._balance_locks.setdefault(venue, asyncio.Lock()):
            fresh = await self.clients[venue].balances(MarketType.SPOT)
            hedges = await asyncio.to_thread(positions_with_status, self.deps.engine, ACTIVE_STATUSES, venue)
            for key in [key for key in self.balances if key[0] == venue and key[1] not in fresh]:
                self.balances[key] = Decimal(0)  # venues leave out what they no longer hold
            for asset, balance in fresh.items():
                self.balances[(venue, asset)] = self._tradable(venue, asset, balance.free, hedges)

    def _tradable(self, venue: str, coin: str, free: Decimal, hedges: Sequence[PositionRecord]) -> Decimal:
        """Free coins no funding hedge needs: a positive hedge's spot leg, and the declared inventory a negative hedge
        may sell, are never the engine's to sell (selling them would leave a hedge naked)."""
        declared = self.deps.strategy.declared_inventory(venue, coin)
        held = committed_coins(coin, venue, hedges) + declared_left(coin, venue, declared, hedges)
        return max(free - held, Decimal(0))

    def free(self) -> dict[tuple[str, str], Decimal]:
        free = dict(self.balances)
        for opportunity in self.reserved.values():
            base, quote = opportunity.symbol.split("/")
            sell_key, buy_key = (opportunity.sell_venue, base), (opportunity.buy_venue, quote)
            free[sell_key] = free.get(sell_key, Decimal(0)) - opportunity.quote.amount
            free[buy_key] = free.get(buy_key, Decimal(0)) - opportunity.quote.buy_cost
        return free

    def fits(self, opportunity: Opportunity) -> bool:
        """Whether the inventory not yet reserved still covers ``opportunity``: the opportunities of one book update
        (or queued ones) were sized from the same inventory, and two selling on one venue may not both fit."""
        free = self.free()
        base, quote = opportunity.symbol.split("/")
        return (free.get((opportunity.sell_venue, base), Decimal(0)) >= opportunity.quote.amount
                and free.get((opportunity.buy_venue, quote), Decimal(0)) >= opportunity.quote.buy_cost)  # fmt: skip

    def _reserve(self, opportunity: Opportunity, number: int) -> None:
        self.reserved[number] = opportunity

    def _release(self, opportunity: Opportunity, number: int) -> None:
        async def refresh() -> None:
            await asyncio.gather(self.refresh_balances(opportunity.buy_venue),
                                 self.refresh_balances(opportunity.sell_venue))  # fmt: skip
            self.reserved.pop(number, None)

        task = asyncio.create_task(refresh())
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    # ---- books and detection -----------------------------------------------------------------------------------

    def on_book(self, venue: str, symbol: str, book: Any) -> None:
        now = time.perf_counter()
        self.stats.book_updates += 1
        self.books[symbol][venue] = Book.from_stream(book["bids"], book["asks"], book.get("timestamp"))
        if not (self.warmup.seen(venue, symbol) and self.entries_allowed):
            return
        markets = {v: self.markets[(v, symbol)] for v in self.books[symbol]}
        found = detect(symbol, venue, self.books[symbol], markets, self.free(), self.limits, now)
        for opportunity in found:
            self.stats.detected += 1
            self.executor.offer(opportunity)
        if found:
            self.executor.start_ready()

    def _count_resync(self) -> None:
        self.stats.resyncs += 1

    # ---- running -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.repaired = (await repair_spot_arbitrages(self.deps, self.clients)).executions_repaired
        for venue, client in self.clients.items():
            known = await client.markets()
            for symbol in self.symbols:
                if symbol in known:
                    self.markets[(venue, symbol)] = known[symbol]
            await self.refresh_balances(venue)
        for exchange in self.streams.values():
            await exchange.load_markets()
        await self.writers.run(self.executor.warm)
        await self.executor.writers.run(self.heartbeat)  # the first beat before any arbitrage: it names their owner

    def heartbeat(self) -> None:
        self.entries_allowed = not entries_stopped(self.deps.engine)
        self._beat()

    def _beat(self) -> None:
        payload = {"at": datetime.now(UTC).isoformat(), "entries_allowed": self.entries_allowed,
                   "run_id": self.executor.settings.run_id, "owner": self._owner, **self.stats.summary()}  # fmt: skip
        self.deps.state.set_flag(HEARTBEAT_FLAG, json.dumps(payload))

    async def _heartbeats(self) -> None:
        """The two switches are re-read every second on a worker thread (a read takes no write lock); the beat is
        written every ``BEAT_EVERY_S`` (well inside :data:`~arbx_pipelines.engine.liveness.STALE_S`) and at once
        when the switches change. The writer gets only the beat's one write: its queue is where an arbitrage's
        intent may have to wait, and a write a second was a twentieth of the idle engine's CPU."""
        last_beat = time.monotonic()
        while True:
            allowed = not await asyncio.to_thread(entries_stopped, self.deps.engine)
            changed, self.entries_allowed = allowed != self.entries_allowed, allowed
            if changed or time.monotonic() - last_beat >= BEAT_EVERY_S:
                await self.writers.run(self._beat)
                last_beat = time.monotonic()
            await asyncio.sleep(HEARTBEAT_S)

    async def run(self, duration_s: float | None = None) -> EngineStats:
        """Watch, detect and trade until cancelled (or for ``duration_s``). While it runs the interpreter hands the
        GIL over after at most ``SWITCH_INTERVAL_S`` instead of 5 ms: the event loop writes the intents itself, and
        gets the GIL back from the writer and worker threads after each of its database calls, between a book
        update and its orders. Objects alive after start-up are frozen out of the collector's reach."""
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            return await self._run(duration_s)
        finally:
            sys.setswitchinterval(switch_interval)
            gc.unfreeze()

    async def _run(self, duration_s: float | None) -> EngineStats:
        await self.start()
        freeze_startup_objects()
        self.warmup = Warmup(self.markets)
        tasks = [asyncio.create_task(self.executor.run()), asyncio.create_task(self._heartbeats())]
        for venue, symbol in self.markets:
            tasks.append(asyncio.create_task(
                watch_books(venue, self.streams[venue], symbol, self.on_book, self._count_resync)))  # fmt: skip
        checkpointer = WalCheckpointer(self.deps.engine).start()
        try:
            if duration_s is None:
                await asyncio.gather(*tasks)
            else:
                await asyncio.sleep(duration_s)
                self.entries_allowed = False
                await self.executor.drain()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*self._refreshes, return_exceptions=True)
            await self.slots.drain()
            self.executor.close()
            checkpointer.stop()
        return self.stats
