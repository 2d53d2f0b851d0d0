"""The shared venue slots (at most N orders pending per venue across every process) without blocking the engine's
event loop: the state store's lock calls (a commit each on the database store) run on a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arbx_pipelines.execution.slots import PendingTracker, VenueSlots
from arbx_pipelines.storage.state import StateStore


class OffLoopVenueSlots(VenueSlots):
    def __init__(
        self, state: StateStore, per_venue: int, *, ttl_s: float = 60.0, poll_s: float = 0.01,
        tracker: PendingTracker | None = None,
    ) -> None:  # fmt: skip
        super().__init__(state, per_venue, ttl_s=ttl_s, poll_s=poll_s, tracker=tracker)
        self._store, self._count, self._ttl, self._poll = state, per_venue, ttl_s, poll_s

    async def _take(self, venue: str) -> tuple[str, str]:
        while True:
            for index in range(self._count):
                name = f"venue-slot:{venue}:{index}"
                token = await asyncio.to_thread(self._store.acquire_lock, name, self._ttl)
                if token is not None:
                    return name, token
            await asyncio.sleep(self._poll)

    @asynccontextmanager
    async def pending(self, venue: str) -> AsyncIterator[None]:
        name, token = await self._take(venue)
        self.tracker.enter(venue)
        try:
            yield
        finally:
            self.tracker.leave(venue)
            await asyncio.to_thread(self._store.release_lock, name, token)
