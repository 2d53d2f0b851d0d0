"""What a simulated venue publishes for one symbol: the top of its book per time bucket, and the diff between two.

Books are rebuilt from hashes per ``BOOK_QUANTUM_MS`` bucket (``book.py``), so a stream's update id is the bucket
number and a diff is exact: applying ``diff(old, new)`` to a client book equal to ``old`` gives ``new``. Streams
publish the top ``STREAM_DEPTH`` levels a side; clients that take a REST snapshot (Binance) must ask for at most that
depth (``ccxt_wiring`` sets ``watchOrderBookLimit`` accordingly).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.venues.sim.book import Level

STREAM_DEPTH = 50
CHECKSUM_LEVELS = 25
ZERO = Decimal(0)


@dataclass(frozen=True)
class Frame:
    """The published top of one book at one bucket (``bucket`` doubles as update / sequence id)."""

    bucket: int
    time_ms: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@dataclass(frozen=True)
class FrameDiff:
    """Levels to set (quantity 0: remove) to turn one frame into the next."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


def _side_diff(old: tuple[Level, ...], new: tuple[Level, ...]) -> tuple[Level, ...]:
    before = dict(old)
    after = dict(new)
    changed = [(price, qty) for price, qty in new if before.get(price) != qty]
    removed = [(price, ZERO) for price, _ in old if price not in after]
    return tuple(changed + removed)


def diff(old: Frame, new: Frame) -> FrameDiff:
    return FrameDiff(_side_diff(old.bids, new.bids), _side_diff(old.asks, new.asks))


def crc32_signed(payload: str) -> int:
    """CRC32 as a signed 32-bit integer, as OKX and Bitget send it."""
    value = zlib.crc32(payload.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def book_checksum(frame: Frame, render: Callable[[Decimal], str]) -> int:
    """OKX/Bitget checksum: the top 25 levels as ``bid:size:ask:size:...`` (sides interleaved), CRC32 signed."""
    parts: list[str] = []
    for level in range(CHECKSUM_LEVELS):
        for side in (frame.bids, frame.asks):
            if level < len(side):
                parts.extend((render(side[level][0]), render(side[level][1])))
    return crc32_signed(":".join(parts))
