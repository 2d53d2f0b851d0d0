"""The engine's path from a book update to its orders: the intent write (one short transaction, the same rows as the
funding path's, commits without an fsync on SQLite), the writer thread (an intent goes ahead of queued writes) and
the venue slots (this process's orders wait on a gate woken at once, never more than N pending per venue)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import threading
import time
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import Engine, text

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent, client_order_id
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.core.spread import SpreadQuote
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.books import Warmup
from arbx_pipelines.engine.detector import DetectionLimits, Opportunity
from arbx_pipelines.engine.executor import SPOT_ARB_KIND, Executor, ExecutorSettings
from arbx_pipelines.engine.journal import DbWriter, DbWriters
from arbx_pipelines.engine.service import SpotEngine
from arbx_pipelines.engine.slots import OffLoopVenueSlots
from arbx_pipelines.engine.stats import EngineStats
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.lock_owner import this_owner
from arbx_pipelines.execution.slots import PendingTracker
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.executions import FINAL_EXECUTION_STATUSES, find_execution, record_intent
from arbx_pipelines.storage.orders import orders_of_execution
from arbx_pipelines.storage.spot_arbitrage import record_arbitrage_intent, unfinished_executions_of_kind
from arbx_pipelines.storage.state import DatabaseState, lock_token

LEGS = (("buy", Venue.BINANCE, Side.BUY, Decimal("3075.83")), ("sell", Venue.OKX, Side.SELL, Decimal("3088.97")))


def _intents(key: str) -> list[OrderIntent]:
    amount = Decimal("0.0975")
    return [
        OrderIntent(
            execution_id=key,
            leg=leg,
            client_order_id=client_order_id(key, leg),
            venue=venue,
            symbol="ETH/USDT",
            market_type=MarketType.SPOT,
            side=side,
            amount=amount,
            base_amount=amount,
            limit_price=price,
        )
        for leg, venue, side, price in LEGS
    ]


def _synchronous(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA synchronous")).scalar_one())


def test_low_latency_sqlite_commits_without_fsync_and_the_default_keeps_it(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    assert _synchronous(make_engine(sqlite_url)) == 2  # FULL: an fsync per commit
    assert _synchronous(make_engine(sqlite_url, low_latency=True)) == 1  # NORMAL: WAL synced at checkpoints


def test_arbitrage_intent_records_the_rows_of_record_intent(migrated_engine: Engine) -> None:
    planned = {"amount": "0.0975", "buy_venue": "binance", "sell_venue": "okx"}
    fast_id = record_arbitrage_intent(migrated_engine, key="spot-a-1", kind="spot_arb", venue="cross",
                                      symbol="ETH/USDT", planned=planned, intents=_intents("spot-a-1"),
                                      run_id="a")  # fmt: skip
    slow = record_intent(migrated_engine, key="spot-a-2", kind="spot_arb", venue="cross", symbol="ETH/USDT",
                         planned=planned, intents=_intents("spot-a-2"), run_id="a")  # fmt: skip
    fast = find_execution(migrated_engine, "spot-a-1")
    assert fast is not None and fast.id == fast_id
    assert (fast.kind, fast.venue, fast.symbol, fast.status, fast.planned) == (
        slow.kind, slow.venue, slow.symbol, slow.status, slow.planned)  # fmt: skip

    def comparable(execution_id: int) -> list[dict[str, object]]:
        rows = [dataclasses.asdict(o) for o in orders_of_execution(migrated_engine, execution_id)]
        return [{k: v for k, v in row.items() if k not in ("id", "client_order_id", "execution_id")} for row in rows]

    assert comparable(fast_id) == comparable(slow.id)
    assert [o.status for o in orders_of_execution(migrated_engine, fast_id)] == ["intent", "intent"]


def test_an_urgent_write_goes_ahead_of_queued_writes_and_close_runs_the_rest() -> None:
    writer = DbWriter()
    ran: list[str] = []
    started, release = threading.Event(), threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(10)
        ran.append("running")

    futures = [writer.submit(blocking)]
    assert started.wait(10)
    futures += [writer.submit(functools.partial(ran.append, name)) for name in ("first", "second")]
    futures.append(writer.submit(lambda: ran.append("intent"), urgent=True))
    release.set()
    writer.close()
    assert all(f.done() for f in futures)
    assert ran == ["running", "intent", "first", "second"]


def test_a_failed_write_reaches_its_awaiting_task() -> None:
    writer = DbWriter()

    def fails() -> None:
        raise LookupError("no execution 7")

    async def main() -> str:
        try:
            await writer.run(fails)
        except LookupError as exc:
            return str(exc)
        return "no error"

    assert asyncio.run(main()) == "no execution 7"
    assert asyncio.run(writer.run(lambda: 5)) == 5
    writer.close()


def test_one_writer_for_sqlite_several_for_postgres(sqlite_url: str, pg_url: str) -> None:
    sqlite_writers = DbWriters.for_engine(make_engine(sqlite_url))
    pg_writers = DbWriters.for_engine(make_engine(pg_url))
    try:
        assert sqlite_writers.single and not pg_writers.single
    finally:
        sqlite_writers.close()
        pg_writers.close()


async def _orders(slots: OffLoopVenueSlots, count: int, hold_s: float) -> None:
    async def order() -> None:
        async with slots.pending("okx"):
            await asyncio.sleep(hold_s)

    await asyncio.wait_for(asyncio.gather(*(order() for _ in range(count))), timeout=20)
    await slots.drain()


def test_own_orders_wait_on_the_gate_not_on_polling_and_every_slot_is_released(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    state = DatabaseState(make_engine(sqlite_url, low_latency=True))
    tracker = PendingTracker()
    # a poll of a minute: orders that waited on the store's polling instead of the gate would time out
    slots = OffLoopVenueSlots(state, 2, poll_s=60.0, tracker=tracker, owner=this_owner("test"))
    asyncio.run(_orders(slots, 7, 0.01))
    assert tracker.peak["okx"] == 2
    assert tracker.current["okx"] == 0
    assert [state.lock_holder(f"venue-slot:okx:{i}") for i in range(2)] == [None, None]


def test_a_slot_held_by_another_process_is_respected(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    state = DatabaseState(make_engine(sqlite_url, low_latency=True))
    other = lock_token(this_owner("another-run"))  # a live owner (this very process id): never taken over
    assert state.acquire_lock("venue-slot:okx:0", 60.0, other) == other
    tracker = PendingTracker()
    slots = OffLoopVenueSlots(state, 2, poll_s=0.01, tracker=tracker, owner=this_owner("test"))
    asyncio.run(_orders(slots, 4, 0.01))
    assert tracker.peak["okx"] == 1
    assert state.lock_holder("venue-slot:okx:0") == other
    assert state.lock_holder("venue-slot:okx:1") is None


def test_trading_waits_for_every_book_or_for_the_warmup_timeout() -> None:
    now = [100.0]
    expected = [("binance", "ETH/USDT"), ("okx", "ETH/USDT"), ("okx", "BTC/USDT")]
    warmup = Warmup(expected, timeout_s=10.0, clock=lambda: now[0])
    assert not warmup.seen("binance", "ETH/USDT")
    assert not warmup.seen("binance", "ETH/USDT")  # the same book again
    assert not warmup.seen("okx", "ETH/USDT")
    assert warmup.seen("okx", "BTC/USDT")  # the last one: every stream delivers
    late = Warmup(expected, timeout_s=10.0, clock=lambda: now[0])
    now[0] += 9.9
    assert not late.seen("okx", "ETH/USDT")
    now[0] += 0.1
    assert late.seen("okx", "ETH/USDT")  # binance never came: no longer waited for
    assert Warmup([], clock=lambda: now[0]).ready


def _opportunity(buy: str, sell: str, amount: str) -> Opportunity:
    d = Decimal
    quote = SpreadQuote(d(amount), d(3000), d(3030), d(amount) * 3000, d(amount) * 3030, d(3000), d(3030), d(0), d(0))
    return Opportunity("ETH/USDT", buy, sell, quote, 0.0)


def test_an_opportunity_starts_only_while_the_unreserved_inventory_covers_it(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url, low_latency=True)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine))
    limits = DetectionLimits(Decimal("0.001"), Decimal("0.05"), Decimal("300"))
    spot = SpotEngine(deps, {}, {}, ["ETH/USDT"], limits, ExecutorSettings())
    try:
        spot.balances.update({("okx", "ETH"): Decimal("0.15"), ("binance", "USDT"): Decimal(1000),
                              ("bitget", "USDT"): Decimal(1000)})  # fmt: skip
        first, second = _opportunity("binance", "okx", "0.1"), _opportunity("bitget", "okx", "0.1")
        assert spot.fits(first) and spot.fits(second)  # each alone: both detected from the same inventory
        spot._reserve(first, 1)
        assert not spot.fits(second)  # 0.05 ETH left on okx
        assert spot.fits(_opportunity("bitget", "okx", "0.05"))
        costly = replace(first.quote, amount=Decimal("0.01"), buy_cost=Decimal(701))
        assert not spot.fits(Opportunity("ETH/USDT", "binance", "okx", costly, 0.0))  # 700 USDT left on binance
    finally:
        spot.writers.close()


def _market(venue: Venue) -> MarketInfo:
    rules = MarketRules(amount_step=Decimal("0.001"), price_step=Decimal("0.01"))
    return MarketInfo(venue, "ETH/USDT", "ETHUSDT", MarketType.SPOT, "ETH", "USDT", rules, taker_fee=Decimal("0.001"))


def test_an_arbitrage_ready_after_its_send_deadline_is_recorded_abandoned_never_sent(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url, low_latency=True)
    deps = ExecutionDeps(engine=engine, state=DatabaseState(engine), alerts=AlertSink(engine))
    markets = {(str(v), "ETH/USDT"): _market(v) for v in (Venue.BINANCE, Venue.OKX)}
    stats = EngineStats()
    executor = Executor(deps, {}, markets, stats, ExecutorSettings(run_id="late"), reserve=lambda *_: None,
                        release=lambda *_: None, may_enter=lambda: True)  # fmt: skip
    opportunity = _opportunity("binance", "okx", "0.1")
    try:  # no venue clients at all: sending anything would fail the test
        asyncio.run(executor.arbitrage(opportunity, 1, send_deadline=time.perf_counter() - 0.001))
    finally:
        executor.writers.close()
    execution = find_execution(engine, "spot-late-1")
    assert execution is not None and execution.status == "refused"
    assert [o.status for o in orders_of_execution(engine, execution.id)] == ["abandoned", "abandoned"]
    assert unfinished_executions_of_kind(engine, SPOT_ARB_KIND, FINAL_EXECUTION_STATUSES) == []
    assert (stats.skipped, stats.started, stats.finished, len(stats.detect_to_send_ms)) == (1, 0, 0, 1)
