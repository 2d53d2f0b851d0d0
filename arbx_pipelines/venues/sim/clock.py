"""Simulated time: wall time scaled by a speed factor, plus manual jumps and pauses set by the admin endpoint.

Every part of the simulator reads time from one :class:`SimClock`, so accelerating or jumping time moves prices,
funding settlements and order timestamps together. A clock built with ``running=False`` (a stepped clock) stands
still until told to move (``advance``, the admin ``/time`` endpoint): tests get the same prices on every run,
however fast the machine is. ``arbx sim`` / ``arbx run`` keep a running clock.
"""

from __future__ import annotations

import time

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: the longest funding interval: shifting the market by a whole number of these keeps every settlement grid
SETTLEMENT_GRID_MS = 8 * HOUR_MS


def wall_ms() -> int:
    return int(time.time() * 1000)


def aligned_start(wall_now_ms: int, market_start_ms: int) -> int:
    """The first instant at or after ``wall_now_ms`` with the same place on the settlement grid as the market start.

    The reported clock then never runs behind the wall clock (clients compare venue times with their own), while
    the market seen from it is the same on every run: ``market time = reported time + a whole number of grids``.
    """
    return wall_now_ms + (market_start_ms - wall_now_ms) % SETTLEMENT_GRID_MS


class SimClock:
    """``now_ms() = start + (monotonic elapsed) * speed + jumps``, frozen while paused (always, when stepped)."""

    def __init__(self, start_ms: int | None = None, speed: float = 1.0, running: bool = True) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._start_ms = wall_ms() if start_ms is None else int(start_ms)
        self._speed = float(speed)
        self._anchor = time.monotonic()
        self._offset_ms = 0.0
        self._paused_at: float | None = None if running else float(self._start_ms)

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now_ms(self) -> int:
        if self._paused_at is not None:
            return int(self._paused_at)
        elapsed = time.monotonic() - self._anchor
        return int(self._start_ms + elapsed * 1000 * self._speed + self._offset_ms)

    def advance(self, milliseconds: float) -> int:
        """Jump forward (never backward: settlements already made cannot be undone)."""
        if milliseconds < 0:
            raise ValueError(f"time only moves forward; got {milliseconds} ms")
        if self._paused_at is not None:
            self._paused_at += milliseconds
        else:
            self._offset_ms += milliseconds
        return self.now_ms()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        now = self.now_ms()
        self._start_ms, self._anchor, self._offset_ms, self._speed = now, time.monotonic(), 0.0, float(speed)

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = float(self.now_ms())

    def resume(self) -> None:
        if self._paused_at is not None:
            self._start_ms, self._anchor, self._offset_ms = int(self._paused_at), time.monotonic(), 0.0
            self._paused_at = None
