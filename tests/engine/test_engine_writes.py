"""Fewer and shorter database writes on the engine's path: an intent written inline when the writer is idle (and
never waiting in SQLite's busy handler on the event loop), the journal steps of one arbitrage batched, venue slots
leased across the orders of a burst, the breaker counted from its two switches, the WAL checkpointed off the
writer."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent, client_order_id
from arbx_pipelines.core.risk import RiskLimits
from arbx_pipelines.engine.journal import BackgroundJournal, DbWriter
from arbx_pipelines.engine.slots import OffLoopVenueSlots
from arbx_pipelines.execution.lock_owner import this_owner
from arbx_pipelines.execution.risk_state import (
    BREAKER,
    FAILURES,
    count_execution_result,
    entries_stopped,
    halt,
    resume,
)
from arbx_pipelines.storage.db import checkpoint_wal, make_engine, upgrade
from arbx_pipelines.storage.executions import find_execution
from arbx_pipelines.storage.orders import orders_of_execution
from arbx_pipelines.storage.spot_arbitrage import (
    ArbitrageIntent,
    ImpatientIntentWriter,
    record_arbitrage_intent,
    record_arbitrage_intents,
)
from arbx_pipelines.storage.state import DatabaseState


def _intents(key: str) -> list[OrderIntent]:
    amount = Decimal("0.1")
    legs = (("buy", Venue.BINANCE, Side.BUY, Decimal(3000)), ("sell", Venue.OKX, Side.SELL, Decimal(3030)))
    return [OrderIntent(key, leg, client_order_id(key, leg), venue, "ETH/USDT", MarketType.SPOT, side, amount, amount,
                        price) for leg, venue, side, price in legs]  # fmt: skip


def _record(engine: Engine, key: str) -> int:
    return record_arbitrage_intent(engine, key=key, kind="spot_arb", venue="cross", symbol="ETH/USDT",
                                   planned={"amount": "0.1"}, intents=_intents(key), run_id="t")  # fmt: skip


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    upgrade(sqlite_url)
    return make_engine(sqlite_url, low_latency=True)


def test_an_impatient_intent_fails_at_once_while_another_connection_holds_the_write_lock(engine: Engine) -> None:
    writer = ImpatientIntentWriter(engine)
    arbitrage = [ArbitrageIntent("spot-t-1", "ETH/USDT", {"amount": "0.1"}, _intents("spot-t-1"))]
    try:
        with engine.connect() as other:
            other.exec_driver_sql("BEGIN IMMEDIATE")  # another process's write transaction
            started = time.perf_counter()
            with pytest.raises(OperationalError, match="locked"):
                writer.record(arbitrage, kind="spot_arb", venue="cross", run_id="t")
            assert time.perf_counter() - started < 5  # at once, not after the 30 s busy timeout
            other.exec_driver_sql("ROLLBACK")
        assert find_execution(engine, "spot-t-1") is None  # nothing half written
        (execution_id,) = writer.record(arbitrage, kind="spot_arb", venue="cross", run_id="t")  # same connection
        execution = find_execution(engine, "spot-t-1")
        assert execution is not None and execution.id == execution_id
        assert [o.status for o in orders_of_execution(engine, execution.id)] == ["intent"] * 2
    finally:
        writer.close()
    with engine.connect() as connection:  # the pool's connections stay patient
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000


def _block(started: threading.Event, release: threading.Event) -> None:
    started.set()
    release.wait(10)


def test_a_write_runs_inline_only_while_the_writer_is_idle() -> None:
    writer = DbWriter()
    started, release = threading.Event(), threading.Event()
    try:
        inline = writer.run_inline(lambda: 7)
        assert inline is not None and inline.result() == 7
        failed = writer.run_inline(lambda: 1 // 0)
        assert failed is not None and isinstance(failed.exception(), ZeroDivisionError)
        blocked = writer.submit(lambda: _block(started, release))
        assert started.wait(10)
        assert writer.run_inline(lambda: 8) is None  # a write is running: the caller queues it instead
        release.set()
        blocked.result(10)
    finally:
        release.set()
        writer.close()


def test_journal_steps_handed_over_together_are_one_batch_and_a_failing_step_fails_alone(engine: Engine) -> None:
    execution_id = _record(engine, "spot-t-2")
    writer = DbWriter()
    submitted: list[object] = []
    submit = writer.submit

    def counting_submit(call, *, urgent=False):  # type: ignore[no-untyped-def]
        submitted.append(call)
        return submit(call, urgent=urgent)

    writer.submit = counting_submit  # type: ignore[method-assign]
    started, release = threading.Event(), threading.Event()
    blocker = submit(lambda: _block(started, release))  # the writer is busy: the steps wait together
    assert started.wait(10)
    journal = BackgroundJournal(engine, writer)
    buy, sell = (intent.client_order_id for intent in _intents("spot-t-2"))
    journal.mark_sent(buy)
    journal.mark_sent(sell)
    journal.mark_unknown("no-such-order", "lost")

    async def flush() -> str:
        try:
            await journal.flush()
        except LookupError as exc:
            return str(exc)
        return "no error"

    try:
        release.set()
        blocker.result(10)
        assert "no-such-order" in asyncio.run(flush())
    finally:
        writer.close()
    assert len(submitted) == 1  # three steps, one trip to the writer
    assert [o.status for o in orders_of_execution(engine, execution_id)] == ["sending", "sending"]


def _slot_holders(state: DatabaseState, venue: str, count: int) -> list[str | None]:
    return [state.lock_holder(f"venue-slot:{venue}:{i}") for i in range(count)]


def test_a_slot_is_leased_across_orders_held_in_the_store_meanwhile_and_released_on_drain(engine: Engine) -> None:
    state = DatabaseState(engine)
    slots = OffLoopVenueSlots(state, 3, owner=this_owner("lease"), linger_s=3600.0)

    async def orders() -> list[str | None]:
        for _ in range(5):  # one after another: the first takes the slot, the rest reuse it
            async with slots.pending("okx"):
                pass
        idle = _slot_holders(state, "okx", 3)
        await slots.drain()
        return idle

    idle = asyncio.run(orders())
    assert idle[0] is not None and idle[1:] == [None, None]  # held for other processes while leased
    assert slots.store_calls == 2  # one take, one release, for five orders
    assert _slot_holders(state, "okx", 3) == [None, None, None]
    assert slots.tracker.peak["okx"] == 1 and slots.tracker.current["okx"] == 0


def test_a_lease_reused_past_a_third_of_its_ttl_is_refreshed_in_the_background(engine: Engine) -> None:
    state = DatabaseState(engine)
    now = [0.0]
    slots = OffLoopVenueSlots(state, 1, ttl_s=30.0, owner=this_owner("lease"), linger_s=3600.0,
                              clock=lambda: now[0])  # fmt: skip

    async def orders() -> str | None:
        async with slots.pending("okx"):
            pass
        taken = state.lock_holder("venue-slot:okx:0")
        now[0] += 11.0  # past a third of the TTL
        async with slots.pending("okx"):
            pass
        await asyncio.sleep(0)
        while slots._background:  # the refresh, not the release: the lease is still idle
            await asyncio.gather(*slots._background)
        assert state.lock_holder("venue-slot:okx:0") == taken
        await slots.drain()
        return taken

    assert asyncio.run(orders()) is not None
    assert slots.store_calls == 3  # take, refresh, release


def test_the_breaker_is_counted_from_its_switches_and_a_plain_success_writes_nothing(engine: Engine) -> None:
    flags = DatabaseState(engine)
    limits = RiskLimits(circuit_breaker_failures=2)
    count_execution_result(engine, limits, True)
    assert flags.get_flag(FAILURES) is None  # nothing to reset: nothing written
    count_execution_result(engine, limits, False)
    assert (flags.get_flag(FAILURES), flags.get_flag(BREAKER)) == ("1", None) and not entries_stopped(engine)
    count_execution_result(engine, limits, False)
    assert (flags.get_flag(FAILURES), flags.get_flag(BREAKER)) == ("2", "1") and entries_stopped(engine)
    count_execution_result(engine, limits, True)
    assert (flags.get_flag(FAILURES), flags.get_flag(BREAKER)) == ("0", "1")  # a success leaves the breaker open
    flags.set_flag(BREAKER, None)
    halt(engine, "test")
    assert entries_stopped(engine)
    resume(engine)
    assert not entries_stopped(engine)


def test_a_passive_checkpoint_empties_the_wal_into_the_database(engine: Engine) -> None:
    for number in range(20):
        _record(engine, f"spot-wal-{number}")
    frames, checkpointed = checkpoint_wal(engine)
    assert frames > 0 and checkpointed == frames


def test_arbitrages_started_together_are_recorded_in_one_transaction_in_order(engine: Engine) -> None:
    arbitrages = [ArbitrageIntent(f"spot-t-{n}", "ETH/USDT", {"n": str(n)}, _intents(f"spot-t-{n}")) for n in (7, 8)]
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", count)
    ids = record_arbitrage_intents(engine, arbitrages, kind="spot_arb", venue="cross", run_id="t")
    event.remove(engine, "commit", count)
    assert len(commits) == 1
    for key, execution_id in zip(("spot-t-7", "spot-t-8"), ids, strict=True):
        execution = find_execution(engine, key)
        assert execution is not None and execution.id == execution_id and execution.status == "sending"
        orders = orders_of_execution(engine, execution_id)
        assert [(o.client_order_id, o.status) for o in orders] == [(client_order_id(key, leg), "intent")
                                                                   for leg in ("buy", "sell")]  # fmt: skip


def test_an_urgent_write_waits_inline_for_the_running_write_and_goes_ahead_of_the_queued_ones() -> None:
    writer = DbWriter()
    started, release = threading.Event(), threading.Event()
    order: list[str] = []

    def noted(name: str, result: int = 0) -> int:
        if name == "running":
            _block(started, release)
        order.append(name)
        return result

    try:
        blocked = writer.submit(lambda: noted("running"))
        assert started.wait(10)
        queued = writer.submit(lambda: noted("queued"))
        assert writer.run_inline(lambda: 9, wait_s=0.001) is None  # still running after the wait: queue it instead

        def release_once_waiting() -> None:  # the running write ends only once the inline caller waits for it
            while not writer._inline_waiting:
                time.sleep(0.001)
            release.set()

        threading.Thread(target=release_once_waiting).start()
        inline = writer.run_inline(lambda: noted("urgent", 10), wait_s=10)
        assert inline is not None and inline.result() == 10
        blocked.result(10)
        queued.result(10)
        assert order == ["running", "urgent", "queued"]
    finally:
        release.set()
        writer.close()
