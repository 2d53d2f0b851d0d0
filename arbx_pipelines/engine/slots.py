"""The shared venue slots (at most N orders pending per venue across every process) without blocking the engine's
event loop, and without a state store round trip for each of the engine's own orders.

* The state store's lock calls (a commit each on the database store) run off the loop, through ``run``: the
  engine's single SQLite writer (one write lock: a second writing thread would only sleep in SQLite's busy handler),
  or a worker thread for Redis or PostgreSQL.
* An in-process gate per venue (a semaphore of N) queues this process's orders: one waiting for a slot is woken as
  soon as one of ours is released, instead of polling the store every ``poll_s``, and it asks the store only for the
  slot indices this process does not hold. The store still has the last word (other processes hold slots too).
* A slot taken in the store is kept (leased) for ``linger_s`` after its order is answered: arbitrages come in
  bursts, and the next order of the burst reuses it with no store call (the gate alone). The lock stays held the
  whole time, so other processes still see it taken; it is released in the background once idle for ``linger_s``,
  and refreshed in the background (never on an order's path) before its TTL could run out while it is reused.
  :meth:`drain` releases the idle leases and waits for the releases still running (the engine calls it before it
  stops).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.lock_owner import take_lock
from arbx_pipelines.execution.slots import PendingTracker, VenueSlots
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.state import LockOwner, StateStore

log = get_logger("arbx.engine.slots")
T = TypeVar("T")
Runner = Callable[[Callable[[], Any]], Awaitable[Any]]
#: how long a slot stays leased after its order is answered, waiting for the next order of a burst
LINGER_S = 0.5


async def _to_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


@dataclass
class _Lease:
    """A slot this process holds in the store: its index, its lock token, and when the lock was last (re)taken."""

    index: int
    token: str
    since: float
    idle_timer: asyncio.TimerHandle | None = None


class OffLoopVenueSlots(VenueSlots):
    def __init__(
        self, state: StateStore, per_venue: int, *, ttl_s: float = 60.0, poll_s: float = 0.01,
        tracker: PendingTracker | None = None, owner: LockOwner | None = None, run: Runner | None = None,
        linger_s: float = LINGER_S, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        super().__init__(state, per_venue, ttl_s=ttl_s, poll_s=poll_s, tracker=tracker, owner=owner)
        self._run: Runner = run or _to_thread
        self._linger_s = linger_s
        self._clock = clock
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._held: dict[str, set[int]] = {}
        self._idle: dict[str, list[_Lease]] = {}
        self._background: set[asyncio.Task[None]] = set()
        #: store calls made for slots (takes, releases, refreshes): what leasing saves
        self.store_calls = 0

    async def _take(self, venue: str) -> _Lease:
        idle = self._idle.setdefault(venue, [])
        if idle:  # a lease of ours, still held in the store: no store call
            lease = idle.pop()
            if lease.idle_timer is not None:
                lease.idle_timer.cancel()
                lease.idle_timer = None
            if self._clock() - lease.since > self._ttl_s / 3:
                self._spawn(self._refresh(venue, lease))
            return lease
        held = self._held.setdefault(venue, set())
        while True:
            for index in range(self._per_venue):
                if index in held:
                    continue
                name = f"venue-slot:{venue}:{index}"
                self.store_calls += 1
                token = await self._run(functools.partial(take_lock, self._state, name, self._ttl_s, self._owner))
                if token is not None:
                    held.add(index)
                    return _Lease(index, token, self._clock())
            await asyncio.sleep(self._poll_s)  # another process holds the rest

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh(self, venue: str, lease: _Lease) -> None:
        """Extend a reused lease's lock (its order goes on meanwhile: the lock is still far from expiring)."""
        lease.since = self._clock()
        self.store_calls += 1
        name = f"venue-slot:{venue}:{lease.index}"
        try:
            if not await self._run(functools.partial(self._state.refresh_lock, name, lease.token, self._ttl_s)):
                log.error("venue slot lost before its refresh", extra={"venue": venue, "slot": lease.index})
        except Exception:
            log.exception("venue slot refresh failed", extra={"venue": venue, "slot": lease.index})

    def _park(self, venue: str, lease: _Lease, gate: asyncio.Semaphore) -> None:
        """Keep the answered order's slot for the next order; released once idle for ``linger_s``."""
        self._idle.setdefault(venue, []).append(lease)
        lease.idle_timer = asyncio.get_running_loop().call_later(self._linger_s, self._expire, venue, lease)
        gate.release()

    def _expire(self, venue: str, lease: _Lease) -> None:
        idle = self._idle.get(venue, [])
        if lease in idle:
            idle.remove(lease)
            lease.idle_timer = None
            self._spawn(self._release(venue, lease))

    async def _release(self, venue: str, lease: _Lease) -> None:
        try:
            self.store_calls += 1
            await self._run(functools.partial(self._state.release_lock, f"venue-slot:{venue}:{lease.index}",
                                              lease.token))  # fmt: skip
            crash_point("order.slot_released")
        except Exception:  # the slot expires after its TTL; the order itself is unaffected
            log.exception("venue slot release failed", extra={"venue": venue, "slot": lease.index})
        finally:
            self._held[venue].discard(lease.index)

    @asynccontextmanager
    async def pending(self, venue: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(venue, asyncio.Semaphore(self._per_venue))
        await gate.acquire()
        try:
            lease = await self._take(venue)
        except BaseException:
            gate.release()
            raise
        self.tracker.enter(venue)
        try:
            yield
        finally:
            self.tracker.leave(venue)
            self._park(venue, lease, gate)

    async def drain(self) -> None:
        """Release the idle leases and wait for every release and refresh still running."""
        for venue, idle in self._idle.items():
            while idle:
                lease = idle.pop()
                if lease.idle_timer is not None:
                    lease.idle_timer.cancel()
                self._spawn(self._release(venue, lease))
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
