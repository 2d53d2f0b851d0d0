"""Cross-venue dislocations for the spot engine: a seeded generator of short-lived spreads, jumps and lagging feeds.

* Generated: per coin, simulated time is cut into slots of ``every_ms``; each slot holds one dislocation on one
  seeded venue, starting at a seeded instant, lasting ``min_ms..max_ms`` and moving that venue's price by
  ``min_bps..max_bps`` up or down. A pure function of (seed, coin, time), like the rest of the market, so orders
  sent during a dislocation fill against the same moved book the stream showed.
* Jumps (``/_admin/dislocations``) are price overrides of the market model for a while.
* Lag is a stream property (``feed.py``): the venue's stream publishes its book as of ``lag_ms`` ago, while its
  matching engine trades at the present price, so a lagging feed shows spreads that are no longer there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arbx_pipelines.venues.sim.noise import label_key, uniform


@dataclass(frozen=True)
class DislocationSettings:
    enabled: bool = False
    coins: tuple[str, ...] = ("BTC", "ETH", "SOL", "XRP", "DOGE")
    every_ms: int = 15_000
    min_bps: float = 25.0
    max_bps: float = 60.0
    min_ms: int = 400
    max_ms: int = 2_500
    #: venue -> how far its stream lags behind its matching engine
    lag_ms: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DislocationSettings:
        values = dict(data)
        if "coins" in values:
            values["coins"] = tuple(str(coin).upper() for coin in values["coins"])
        settings = cls(**values)
        if not 0 < settings.min_ms <= settings.max_ms < settings.every_ms:
            raise ValueError("dislocations: need 0 < min_ms <= max_ms < every_ms")
        if not 0 <= settings.min_bps <= settings.max_bps:
            raise ValueError("dislocations: need 0 <= min_bps <= max_bps")
        return settings


@dataclass(frozen=True)
class Dislocation:
    venue: str
    coin: str
    start_ms: int
    end_ms: int
    factor: float


class DislocationGenerator:
    """``factor(venue, coin, t)``: the generated price factor, plugged into the market model's factor sources."""

    def __init__(self, seed: int, venues: tuple[str, ...], settings: DislocationSettings) -> None:
        self.venues = venues
        self.settings = settings
        self._keys = {coin: label_key(seed, "dislocation", coin) for coin in settings.coins}

    def event(self, coin: str, slot: int) -> Dislocation | None:
        key = self._keys.get(coin)
        if key is None or not self.venues:
            return None
        s = self.settings
        base = slot * 8
        duration = s.min_ms + int((s.max_ms - s.min_ms) * uniform(key, base))
        start = slot * s.every_ms + int((s.every_ms - duration) * uniform(key, base + 1))
        venue = self.venues[int(uniform(key, base + 2) * len(self.venues)) % len(self.venues)]
        size = s.min_bps + (s.max_bps - s.min_bps) * uniform(key, base + 3)
        sign = 1.0 if uniform(key, base + 4) < 0.5 else -1.0
        return Dislocation(venue, coin, start, start + duration, 1.0 + sign * size / 1e4)

    def factor(self, venue: str, coin: str, t_ms: int) -> float:
        if not self.settings.enabled or coin not in self._keys:
            return 1.0
        event = self.event(coin, t_ms // self.settings.every_ms)
        if event is None or event.venue != venue or not event.start_ms <= t_ms < event.end_ms:
            return 1.0
        return event.factor
