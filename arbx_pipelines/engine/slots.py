"""The shared venue slots (at most N orders pending per venue across every process) without blocking the engine's
event loop, and without polling among the engine's own orders.

* The state store's lock calls (a commit each on the database store) run off the loop, through ``run``: the
  engine's single SQLite writer (one write lock: a second writing thread would only sleep in SQLite's busy handler),
  or a worker thread for Redis or PostgreSQL.
* An in-process gate per venue (a semaphore of N) queues this process's orders: one waiting for a slot is woken as
  soon as one of ours is released, instead of polling the store every ``poll_s``, and it asks the store only for the
  slot indices this process does not hold. The store still has the last word (other processes hold slots too).
* A slot is released in the background once its order is answered: the answer is not held up by the release
  commit. :meth:`drain` waits for the releases still running (the engine calls it before it stops).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.lock_owner import take_lock
from arbx_pipelines.execution.slots import PendingTracker, VenueSlots
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.state import LockOwner, StateStore

log = get_logger("arbx.engine.slots")
T = TypeVar("T")
Runner = Callable[[Callable[[], Any]], Awaitable[Any]]


async def _to_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


class OffLoopVenueSlots(VenueSlots):
    def __init__(
        self, state: StateStore, per_venue: int, *, ttl_s: float = 60.0, poll_s: float = 0.01,
        tracker: PendingTracker | None = None, owner: LockOwner | None = None, run: Runner | None = None,
    ) -> None:  # fmt: skip
        super().__init__(state, per_venue, ttl_s=ttl_s, poll_s=poll_s, tracker=tracker, owner=owner)
        self._run: Runner = run or _to_thread
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._held: dict[str, set[int]] = {}
        self._releases: set[asyncio.Task[None]] = set()

    async def _take(self, venue: str) -> tuple[int, str]:
        held = self._held.setdefault(venue, set())
        while True:
            for index in range(self._per_venue):
                if index in held:
                    continue
                name = f"venue-slot:{venue}:{index}"
                token = await self._run(functools.partial(take_lock, self._state, name, self._ttl_s, self._owner))
                if token is not None:
                    held.add(index)
                    return index, token
            await asyncio.sleep(self._poll_s)  # another process holds the rest

    async def _release(self, venue: str, index: int, token: str, gate: asyncio.Semaphore) -> None:
        try:
            await self._run(functools.partial(self._state.release_lock, f"venue-slot:{venue}:{index}", token))
            crash_point("order.slot_released")
        except Exception:  # the slot expires after its TTL; the order itself is unaffected
            log.exception("venue slot release failed", extra={"venue": venue, "slot": index})
        finally:
            self._held[venue].discard(index)
            gate.release()

    @asynccontextmanager
    async def pending(self, venue: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(venue, asyncio.Semaphore(self._per_venue))
        await gate.acquire()
        try:
            index, token = await self._take(venue)
        except BaseException:
            gate.release()
            raise
        self.tracker.enter(venue)
        try:
            yield
        finally:
            self.tracker.leave(venue)
            task = asyncio.create_task(self._release(venue, index, token, gate))
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    async def drain(self) -> None:
        """Wait for the slot releases still running."""
        while self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
