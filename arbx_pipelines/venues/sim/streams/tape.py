"""Public trades and candles of a simulated venue, as pure functions of (seed, venue, symbol, time) like its prices.

* Trades: one public trade per book bucket (``BOOK_QUANTUM_MS``) at the bucket's model price on the tick grid, a
  seeded size and side; trade ids count buckets, so the same instant always shows the same trade.
* Candles: open at the interval's start, close at its end (or now), high and low over 16 samples inside it, and a
  seeded volume scaled to the coin's book depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.venues.sim.book import BOOK_QUANTUM_MS
from arbx_pipelines.venues.sim.engine import SimVenue, to_tick
from arbx_pipelines.venues.sim.noise import label_key, uniform

SAMPLES = 16
MAX_TRADES = 1000
MAX_CANDLES = 1500


@dataclass(frozen=True)
class PublicTrade:
    trade_id: int
    time_ms: int
    price: Decimal
    amount: Decimal
    buyer_maker: bool


@dataclass(frozen=True)
class Candle:
    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def recent_trades(venue: SimVenue, symbol: str, limit: int) -> list[PublicTrade]:
    """The latest ``limit`` public trades, oldest first."""
    instrument = venue.instrument(symbol)
    key = label_key(venue.seed, "trades", venue.name, symbol)
    last = venue.now_ms() // BOOK_QUANTUM_MS
    trades = []
    for bucket in range(last - max(1, min(limit, MAX_TRADES)) + 1, last + 1):
        at = bucket * BOOK_QUANTUM_MS
        price = to_tick(venue.model_price(instrument, at), instrument.tick_size)
        usd = instrument.depth_usd * 0.02 * (0.1 + 2 * uniform(key, bucket))
        lots = max(1, int(usd / float(price) / float(instrument.lot_size)))
        trades.append(PublicTrade(bucket, at, price, instrument.lot_size * lots, uniform(key, bucket + 7) < 0.5))
    return trades


def candles(venue: SimVenue, symbol: str, interval_ms: int, start_ms: int | None, end_ms: int | None,
            limit: int) -> list[Candle]:  # fmt: skip
    """Candles of ``interval_ms`` overlapping [start, end] (end capped at now), at most ``limit``, oldest first;
    without ``start_ms`` the latest ones."""
    instrument = venue.instrument(symbol)
    now = venue.now_ms()
    limit = max(1, min(limit, MAX_CANDLES))
    last = min(end_ms if end_ms is not None else now, now) // interval_ms
    first = start_ms // interval_ms if start_ms is not None else last - limit + 1
    first = max(first, last - MAX_CANDLES + 1)
    key = label_key(venue.seed, "candles", venue.name, symbol)
    result = []
    for index in range(first, min(last, first + limit - 1) + 1):
        begin = index * interval_ms
        stop = min(begin + interval_ms - 1, now)
        samples = [venue.model_price(instrument, begin + (stop - begin) * k // (SAMPLES - 1)) for k in range(SAMPLES)]
        volume = instrument.depth_usd * interval_ms / 60_000 * (0.5 + uniform(key, index)) / samples[-1]
        tick = instrument.tick_size
        result.append(Candle(begin, begin + interval_ms - 1, to_tick(samples[0], tick), to_tick(max(samples), tick),
                             to_tick(min(samples), tick), to_tick(samples[-1], tick),
                             to_tick(volume, instrument.lot_size)))  # fmt: skip
    return result
