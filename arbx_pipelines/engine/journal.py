"""The engine's database writes off its event loop: writer threads, each running its writes in submission order.

A commit takes milliseconds (an fsync on SQLite); done on the event loop it would stall every book update and every
other arbitrage. The intent is still recorded before its orders are sent (the executor awaits that write); the
order protocol's journal calls (sent, answered, rejected, unknown) are queued and awaited by :meth:`flush` before the
arbitrage is finished. A crash in between leaves orders that reconcile settles by client order id, as with any crash.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine

from arbx_pipelines.core.venue_data import OrderState
from arbx_pipelines.storage.orders import DbOrderJournal

T = TypeVar("T")


class DbWriter:
    """One thread that runs database writes in order (an arbitrage keeps to one writer, so its writes stay
    ordered while other arbitrages' writes proceed on other writers)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbx-engine-db")

    def submit(self, call: Callable[[], T]) -> Future[T]:
        return self._pool.submit(call)

    async def run(self, call: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._pool.submit(call))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class DbWriters:
    """A few writers; ``for_task(n)`` pins task ``n`` to one of them."""

    def __init__(self, count: int = 4) -> None:
        self._writers = [DbWriter() for _ in range(max(1, count))]

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
