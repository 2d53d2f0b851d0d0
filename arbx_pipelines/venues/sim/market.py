"""The simulated market: prices and funding rates as pure functions of (seed, venue, coin, simulated time).

* Prices: a coin's reference path is the replayed recording when there is one (``history.py``), else a seeded
  multi-scale noise walk around its built-in price. Each venue deviates from the reference by a few basis points
  (so cross-venue spreads exist), and the perpetual trades at a small basis to spot that follows funding.
* Funding: the rate settled at each settlement instant is the replayed one when recorded, else drawn from a seeded
  regime model: calm stretches near +0.01% per 8h and extreme stretches (|rate| 0.08%..0.5% per 8h, mostly
  positive) lasting a few days.
* Overrides set through the admin endpoint (a funding rate, a price level or a spike) are kept as time intervals,
  so the funding history stays consistent with what was settled while an override was active.
* ``offset_ms`` shifts the market against the simulator's reported clock (``SimSettings.market_start_ms``): the
  model reads ``t + offset_ms``, a whole number of settlement grids, while overrides stay in reported time.

Being a function of time keeps the market deterministic for a seed whatever the order of requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from arbx_pipelines.venues.sim.clock import DAY_MS, HOUR_MS
from arbx_pipelines.venues.sim.history import History, ReplaySeries
from arbx_pipelines.venues.sim.noise import fractal_noise, gaussian, label_key, uniform
from arbx_pipelines.venues.sim.universe import BUILTIN_COINS

BASE_RATE_8H = 0.0001
REGIME_BLOCK_MS = 3 * DAY_MS
EXTREME_SHARE = 0.15
RATE_CAP = 0.02
PRICE_QUANTUM_MS = 100

_GENERATED_OCTAVES = ((60_000.0, 0.0008), (900_000.0, 0.002), (4 * HOUR_MS, 0.008), (2 * DAY_MS, 0.03),
                      (14 * DAY_MS, 0.08))  # fmt: skip
_REPLAY_OCTAVES = ((60_000.0, 0.0005), (900_000.0, 0.0015))
_VENUE_OCTAVES = ((30_000.0, 0.0002), (600_000.0, 0.0004))
_BASIS_OCTAVES = ((600_000.0, 0.0002), (6 * HOUR_MS, 0.0003))


@dataclass(frozen=True)
class Override:
    """A value imposed from ``start_ms`` until ``end_ms`` (None: until cleared) on one venue (None: all)."""

    venue: str | None
    coin: str
    start_ms: int
    end_ms: int | None
    value: float

    def active(self, venue: str, coin: str, t_ms: int) -> bool:
        if self.coin != coin or (self.venue is not None and self.venue != venue):
            return False
        return self.start_ms <= t_ms and (self.end_ms is None or t_ms < self.end_ms)


def interval_ms(interval_hours: int) -> int:
    return interval_hours * HOUR_MS


def next_settlement(interval_hours: int, t_ms: int) -> int:
    """The first settlement instant strictly after ``t_ms`` (settlements sit on the UTC grid)."""
    step = interval_ms(interval_hours)
    return (t_ms // step + 1) * step


def settlements_between(interval_hours: int, after_ms: int, until_ms: int) -> list[int]:
    """Settlement instants in ``(after_ms, until_ms]``."""
    step = interval_ms(interval_hours)
    first = (after_ms // step + 1) * step
    return list(range(first, until_ms + 1, step))


class MarketModel:
    """Prices and funding of every coin on every venue; one instance shared by all venues of a server."""

    def __init__(self, seed: int, history: History, offset_ms: int = 0) -> None:
        self.seed = seed
        self.history = history
        self.offset_ms = offset_ms
        self.funding_overrides: list[Override] = []
        self.price_overrides: list[Override] = []
        self._keys: dict[tuple[str, ...], int] = {}
        self._price_cache: dict[tuple[str, str, int, bool], float] = {}

    def _key(self, *labels: str) -> int:
        key = self._keys.get(labels)
        if key is None:
            key = self._keys[labels] = label_key(self.seed, *labels)
        return key

    # ---- prices ----------------------------------------------------------------------------------------------

    def reference_price(self, coin: str, t_ms: float, spot: bool = False) -> float:
        series = self.history.reference(coin)
        if series is not None:
            return series.price_at(t_ms, spot=spot) * math.exp(fractal_noise(self._key("ref", coin), t_ms,
                                                                             _REPLAY_OCTAVES))  # fmt: skip
        base = BUILTIN_COINS.get(coin, (1.0, 0.0))[0]
        return base * math.exp(fractal_noise(self._key("ref", coin), t_ms, _GENERATED_OCTAVES))

    def _factor(self, venue: str, coin: str, t_ms: int) -> float:
        factor = 1.0
        for override in self.price_overrides:
            if override.active(venue, coin, t_ms):
                factor *= override.value
        return factor

    def spot_price(self, venue: str, coin: str, t_ms: int) -> float:
        return self._price(venue, coin, t_ms, spot=True)

    def perp_price(self, venue: str, coin: str, t_ms: int) -> float:
        return self._price(venue, coin, t_ms, spot=False)

    def _price(self, venue: str, coin: str, t_ms: int, spot: bool) -> float:
        quantum = (t_ms + self.offset_ms) // PRICE_QUANTUM_MS
        cache_key = (venue, coin, quantum, spot)
        cached = self._price_cache.get(cache_key)
        if cached is None:
            cached = self._model_price(venue, coin, quantum * PRICE_QUANTUM_MS, spot)
            if len(self._price_cache) > 200_000:
                self._price_cache.clear()
            self._price_cache[cache_key] = cached
        return cached * self._factor(venue, coin, t_ms)

    def _model_price(self, venue: str, coin: str, t_ms: int, spot: bool) -> float:
        reference = self.history.reference(coin)
        own = self.history.get(venue, coin)
        if own is not None and own.spot_prices is not None:
            price = own.price_at(t_ms, spot=spot) * math.exp(fractal_noise(self._key("ref", coin), t_ms,
                                                                            _REPLAY_OCTAVES))  # fmt: skip
        else:
            price = self.reference_price(coin, t_ms, spot=spot and reference is not None)
            if not spot:
                price *= 1.0 + self._basis(venue, coin, t_ms)
        deviation = fractal_noise(self._key("venue", venue, coin), t_ms, _VENUE_OCTAVES)
        return price * math.exp(deviation)

    def _basis(self, venue: str, coin: str, t_ms: int) -> float:
        """Perp premium over spot: leans with the funding regime, as real premiums do."""
        regime = self._regime(venue, coin, t_ms)
        return 0.3 * regime + fractal_noise(self._key("basis", venue, coin), t_ms, _BASIS_OCTAVES)

    # ---- funding ---------------------------------------------------------------------------------------------

    def funding_rate(self, venue: str, coin: str, interval_hours: int, settle_ms: int) -> float:
        """The rate settled at ``settle_ms``; an override active just before the instant wins."""
        for override in reversed(self.funding_overrides):
            if override.active(venue, coin, settle_ms - 1):
                return override.value
        market_ms = settle_ms + self.offset_ms
        series = self.history.get(venue, coin)
        if series is not None and series.interval_hours == interval_hours:
            recorded = series.rate_at_settlement(market_ms)
            if recorded is not None:
                return recorded
        return self._generated_rate(venue, coin, interval_hours, market_ms)

    def predicted_rate(self, venue: str, coin: str, interval_hours: int, t_ms: int) -> float:
        """The rate the next settlement will pay (what venues publish as the current funding rate)."""
        return self.funding_rate(venue, coin, interval_hours, next_settlement(interval_hours, t_ms))

    def _regime(self, venue: str, coin: str, t_ms: int) -> float:
        """0 in calm stretches, else the stretch's signed per-8h level."""
        block = t_ms // REGIME_BLOCK_MS
        if uniform(self._key("regime", venue, coin), block) >= EXTREME_SHARE:
            return 0.0
        sign = 1.0 if uniform(self._key("sign", venue, coin), block) < 0.7 else -1.0
        return sign * (0.0008 + 0.0042 * uniform(self._key("level", venue, coin), block) ** 2)

    def _generated_rate(self, venue: str, coin: str, interval_hours: int, settle_ms: int) -> float:
        index = settle_ms // interval_ms(interval_hours)
        scale = interval_hours / 8.0
        level = self._regime(venue, coin, settle_ms - 1)
        key = self._key("rate", venue, coin)
        if level:
            rate = level * (0.6 + 0.8 * uniform(key, index)) * math.sqrt(scale)
        elif uniform(key, index) < 0.55:
            rate = BASE_RATE_8H * scale
        else:
            rate = (BASE_RATE_8H + 0.00012 * gaussian(key, index)) * scale
            rate = min(0.001, max(-0.0005, rate))
        return round(max(-RATE_CAP, min(RATE_CAP, rate)), 8)

    def replay_series(self, venue: str, coin: str) -> ReplaySeries | None:
        return self.history.get(venue, coin)
