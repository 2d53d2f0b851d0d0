"""The engine's database writes off its event loop: writer threads, each running its writes in submission order.

A commit can take milliseconds (an fsync, a busy disk, a lock held by another process); done on the event loop it
would stall every book update and every other arbitrage. The intent is still recorded before its orders are sent
(the executor awaits that write); the order protocol's journal calls (sent, answered, rejected, unknown) are queued
and awaited by :meth:`flush` before the arbitrage is finished. A crash in between leaves orders that reconcile
settles by client order id, as with any crash.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine

from arbx_pipelines.core.venue_data import OrderState
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.db import checkpoint_wal
from arbx_pipelines.storage.orders import (
    JournalStep,
    in_one_transaction,
    mark_final_in,
    mark_sent_in,
    record_state_in,
)

T = TypeVar("T")
log = get_logger("arbx.engine.journal")
URGENT, ORDINARY, CLOSING = 0, 1, 2


class DbWriter:
    """One thread that runs database writes in submission order, except that an ``urgent`` write (an arbitrage's
    intent: it sits between a book update and the orders) goes ahead of the queued ordinary ones. Only a write that
    depends on no queued one may be urgent: an intent creates its execution's first rows."""

    def __init__(self) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Future[Any] | None, Callable[[], Any] | None]]
        self._queue = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        #: guards ``_busy`` (a write runs, on this thread or inline: one at a time) and ``_inline_waiting``
        self._state = threading.Condition()
        self._busy = False
        #: inline callers waiting for the running write to end: this thread lets them go first
        self._inline_waiting = 0
        self._thread = threading.Thread(target=self._work, name="arbx-engine-db", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            _, _, future, call = self._queue.get()
            if future is None or call is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            with self._state:
                self._state.wait_for(lambda: not self._busy and not self._inline_waiting)
                self._busy = True
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting task, like a ThreadPoolExecutor would
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                self._done()

    def _done(self) -> None:
        with self._state:
            self._busy = False
            self._state.notify_all()

    def run_inline(self, call: Callable[[], T], *, wait_s: float = 0.0) -> Future[T] | None:
        """Run ``call`` in the caller's thread when no write is running or queued (its result or error in a done
        future), else None: the caller hands it to :meth:`submit`. An intent written so takes no trip through the
        writer thread (a wake-up, the GIL, and one back to the event loop), and waits behind no other write.

        ``wait_s`` > 0 (an urgent write: it depends on no queued write): go ahead of the queued writes, and wait up
        to ``wait_s`` for the running one to end. The caller's thread blocks meanwhile, so the running write has
        the GIL to itself and the call then runs without competing for it; a write handed to the writer thread
        instead shares the GIL with the event loop, a switch interval lost at each of its database calls."""
        with self._state:
            if wait_s > 0:
                self._inline_waiting += 1
                try:
                    free = self._state.wait_for(lambda: not self._busy, timeout=wait_s)
                finally:
                    self._inline_waiting -= 1
                if not free:
                    self._state.notify_all()  # the writer thread may be waiting for this caller to go first
                    return None
            elif self._busy or not self._queue.empty():
                return None
            self._busy = True
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(call())
        except Exception as exc:
            future.set_exception(exc)
        finally:
            self._done()
        return future

    def submit(self, call: Callable[[], T], *, urgent: bool = False) -> Future[T]:
        if self._closed:
            raise RuntimeError("database writer closed")
        future: Future[T] = Future()
        self._queue.put((URGENT if urgent else ORDINARY, next(self._order), future, call))
        return future

    async def run(self, call: Callable[[], T], *, urgent: bool = False) -> T:
        return await asyncio.wrap_future(self.submit(call, urgent=urgent))

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put((CLOSING, next(self._order), None, None))
        self._thread.join()


class DbWriters:
    """A few writers; ``for_task(n)`` pins task ``n`` to one of them. :meth:`for_engine` uses a single writer for
    SQLite: it has one write lock, and a second writing thread only waits for it in the busy handler, which sleeps
    in steps of milliseconds."""

    def __init__(self, count: int = 4) -> None:
        self._writers = [DbWriter() for _ in range(max(1, count))]

    @classmethod
    def for_engine(cls, engine: Engine) -> DbWriters:
        return cls(1 if engine.dialect.name == "sqlite" else 4)

    @property
    def single(self) -> bool:
        return len(self._writers) == 1

    def for_task(self, number: int) -> DbWriter:
        return self._writers[number % len(self._writers)]

    async def run(self, call: Callable[[], T]) -> T:
        """A write that belongs to no task, or read-modify-writes that must not race (heartbeat, breaker count)."""
        return await self._writers[0].run(call)

    def close(self) -> None:
        for writer in self._writers:
            writer.close()


class WalCheckpointer:
    """A thread that checkpoints the SQLite WAL every ``interval_s`` (:func:`checkpoint_wal`), off the writer: the
    commit that would otherwise run SQLite's automatic checkpoint (tens of ms with its fsyncs on a busy disk) holds
    up every write queued behind it, an arbitrage's intent among them."""

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="arbx-engine-wal", daemon=True)
        self.runs = 0

    def start(self) -> WalCheckpointer:
        if self._engine.dialect.name == "sqlite":
            self._thread.start()
        return self

    def _work(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                checkpoint_wal(self._engine)
                self.runs += 1
            except Exception:  # a checkpoint that cannot run now runs next time (or inside a commit, as before)
                log.exception("WAL checkpoint failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class BackgroundJournal:
    """The protocol's journal (:class:`DbOrderJournal`'s rows) through the writer; one per arbitrage. Steps handed
    over while an earlier batch of this journal waits for the writer join that batch: the two legs' ``sent`` marks
    (made in the same turn of the loop) are one transaction, not two. Steps keep their order; a batch that fails is
    retried a step per transaction, so one failing step fails alone."""

    def __init__(self, engine: Engine, writer: DbWriter) -> None:
        self._engine = engine
        self._writer = writer
        self._pending: list[Future[Any]] = []
        self._lock = threading.Lock()
        self._batch: list[tuple[JournalStep, Future[None]]] = []

    def _submit(self, step: JournalStep) -> None:
        done: Future[None] = Future()
        self._pending.append(done)
        with self._lock:
            self._batch.append((step, done))
            if len(self._batch) > 1:  # a batch is queued already: this step rides along
                return
        self._writer.submit(self._run_batch)

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, []
        try:
            in_one_transaction(self._engine, [step for step, _ in batch])
        except Exception:
            for step, done in batch:
                try:
                    in_one_transaction(self._engine, [step])
                except Exception as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(None)
        else:
            for _, done in batch:
                done.set_result(None)

    def mark_sent(self, client_order_id: str) -> None:
        self._submit(functools.partial(mark_sent_in, client_order_id=client_order_id))

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        self._submit(functools.partial(record_state_in, client_order_id=client_order_id, state=state,
                                       sent_at=sent_at, at=at))  # fmt: skip

    def mark_rejected(self, client_order_id: str, error: str) -> None:
        self._submit(functools.partial(mark_final_in, client_order_id=client_order_id, status="rejected",
                                       error=error))  # fmt: skip

    def mark_unknown(self, client_order_id: str, error: str) -> None:
        self._submit(functools.partial(mark_final_in, client_order_id=client_order_id, status="unknown",
                                       error=error))  # fmt: skip

    async def flush(self) -> None:
        """Wait for every step handed over; the first failure is raised."""
        pending, self._pending = self._pending, []
        for future in pending:
            await asyncio.wrap_future(future)
