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
from arbx_pipelines.storage.orders import DbOrderJournal

T = TypeVar("T")
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
        self._thread = threading.Thread(target=self._work, name="arbx-engine-db", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            _, _, future, call = self._queue.get()
            if future is None or call is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting task, like a ThreadPoolExecutor would
                future.set_exception(exc)
            else:
                future.set_result(result)

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


class BackgroundJournal:
    """:class:`DbOrderJournal` through the writer; one per arbitrage."""

    def __init__(self, engine: Engine, writer: DbWriter) -> None:
        self._journal = DbOrderJournal(engine)
        self._writer = writer
        self._pending: list[Future[Any]] = []

    def _submit(self, call: Callable[[], None]) -> None:
        self._pending.append(self._writer.submit(call))

    def mark_sent(self, client_order_id: str) -> None:
        self._submit(functools.partial(self._journal.mark_sent, client_order_id))

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        self._submit(functools.partial(self._journal.record_state, client_order_id, state, sent_at=sent_at, at=at))

    def mark_rejected(self, client_order_id: str, error: str) -> None:
        self._submit(functools.partial(self._journal.mark_rejected, client_order_id, error))

    def mark_unknown(self, client_order_id: str, error: str) -> None:
        self._submit(functools.partial(self._journal.mark_unknown, client_order_id, error))

    async def flush(self) -> None:
        """Wait for every queued write; the first failure is raised."""
        pending, self._pending = self._pending, []
        for future in pending:
            await asyncio.wrap_future(future)
