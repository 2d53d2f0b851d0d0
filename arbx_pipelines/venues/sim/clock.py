"""Simulated time: wall time scaled by a speed factor, plus manual jumps and pauses set by the admin endpoint.

Every part of the simulator reads time from one :class:`SimClock`, so accelerating or jumping time moves prices,
funding settlements and order timestamps together.
"""

from __future__ import annotations

import time

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class SimClock:
    """``now_ms() = start + (monotonic elapsed) * speed + jumps``, frozen while paused."""

    def __init__(self, start_ms: int | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._start_ms = int(time.time() * 1000) if start_ms is None else int(start_ms)
        self._speed = float(speed)
        self._anchor = time.monotonic()
        self._offset_ms = 0.0
        self._paused_at: float | None = None

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
