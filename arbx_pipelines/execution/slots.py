"""At most N orders in flight per venue, across every run process: N named locks per venue in the state store.

A request to a venue that writes (create) or looks up an order holds one slot while it waits for the answer, so
five executions at once on one venue keep at most N requests pending there. Slots expire after ``ttl_s``, and one
whose owner process died on this host is taken over at once, so a killed process cannot block the venue.
:class:`PendingTracker` counts what this process observes (benchmarks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.lock_owner import take_lock, this_owner
from arbx_pipelines.storage.state import LockOwner, StateStore


@dataclass
class PendingTracker:
    """Orders pending per venue in this process, and the most seen at once."""

    current: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)

    def enter(self, venue: str) -> None:
        self.current[venue] = self.current.get(venue, 0) + 1
        self.peak[venue] = max(self.peak.get(venue, 0), self.current[venue])

    def leave(self, venue: str) -> None:
        self.current[venue] = self.current.get(venue, 1) - 1


class VenueSlots:
    def __init__(
        self,
        state: StateStore,
        per_venue: int,
        *,
        ttl_s: float = 60.0,
        poll_s: float = 0.01,
        tracker: PendingTracker | None = None,
        owner: LockOwner | None = None,
    ) -> None:
        if per_venue < 1:
            raise ValueError(f"per_venue must be at least 1, got {per_venue}")
        self._state = state
        self._per_venue = per_venue
        self._ttl_s = ttl_s
        self._poll_s = poll_s
        self.tracker = tracker or PendingTracker()
        self._owner = owner or this_owner(None)

    async def _acquire(self, venue: str) -> tuple[str, str]:
        while True:
            for index in range(self._per_venue):
                name = f"venue-slot:{venue}:{index}"
                token = take_lock(self._state, name, self._ttl_s, self._owner)
                if token is not None:
                    return name, token
            await asyncio.sleep(self._poll_s)

    @asynccontextmanager
    async def pending(self, venue: str) -> AsyncIterator[None]:
        name, token = await self._acquire(venue)
        self.tracker.enter(venue)
        try:
            yield
        finally:
            self.tracker.leave(venue)
            self._state.release_lock(name, token)
            crash_point("order.slot_released")
