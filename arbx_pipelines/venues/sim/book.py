"""Synthetic order books of realistic depth around the model price.

A book is rebuilt per time bucket from hashes of (seed, venue, symbol, bucket): the same instant always shows the
same book. Spread and depth scale with the coin's liquidity (``Instrument.depth_usd``): majors quote a tick or two
wide with hundreds of thousands of USD per level, small coins a few basis points wide with a few thousand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.venues.sim.noise import uniform
from arbx_pipelines.venues.sim.universe import Instrument

BOOK_QUANTUM_MS = 250
MAX_LEVELS = 1000

Level = tuple[Decimal, Decimal]


@dataclass(frozen=True)
class OrderBook:
    symbol: str
    timestamp_ms: int
    update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    @property
    def best_bid(self) -> Decimal:
        return self.bids[0][0]

    @property
    def best_ask(self) -> Decimal:
        return self.asks[0][0]

    @property
    def mid(self) -> Decimal:
        return (self.best_bid + self.best_ask) / 2


def spread_bps(instrument: Instrument) -> float:
    return min(15.0, max(0.2, 2e5 / max(instrument.depth_usd, 1.0)))


def _ticks(value: float, tick: float, up: bool) -> int:
    scaled = value / tick
    return math.ceil(scaled - 1e-9) if up else math.floor(scaled + 1e-9)


def build_book(
    instrument: Instrument, mid: float, t_ms: int, key: int, levels: int = 100, market_offset_ms: int = 0
) -> OrderBook:
    """``levels`` price levels a side around ``mid``, prices on the tick grid, sizes on the lot grid; the levels are
    drawn for the market instant ``t_ms + market_offset_ms`` (see ``MarketModel.offset_ms``)."""
    levels = max(1, min(levels, MAX_LEVELS))
    bucket = (t_ms + market_offset_ms) // BOOK_QUANTUM_MS
    tick = float(instrument.tick_size)
    lot = float(instrument.lot_size)
    half = mid * spread_bps(instrument) / 2e4
    step = max(tick, mid * spread_bps(instrument) * 0.6 / 1e4)
    bid_ticks = _ticks(mid - half, tick, up=False)
    ask_ticks = max(bid_ticks + 1, _ticks(mid + half, tick, up=True))
    bids: list[Level] = []
    asks: list[Level] = []
    for side, start, direction, out in ((0, bid_ticks, -1, bids), (1, ask_ticks, 1, asks)):
        position = start
        for level in range(levels):
            draw = uniform(key, bucket * 4096 + side * 2048 + level)
            if level:
                gap = max(1, round(step * (0.3 + 1.4 * draw) / tick))
                position += direction * gap
            if position <= 0:
                break
            price = position * tick
            usd = instrument.depth_usd * (0.2 + 1.6 * uniform(key, bucket * 4096 + side * 2048 + level + 1031))
            qty_lots = max(1, int(usd * (1 + 0.04 * level) / price / lot))
            out.append((instrument.tick_size * position, instrument.lot_size * qty_lots))
    return OrderBook(instrument.symbol, t_ms, t_ms // BOOK_QUANTUM_MS, tuple(bids), tuple(asks))
