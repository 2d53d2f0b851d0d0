"""The whole simulator without HTTP: one clock, one market, fault rules and an engine + module per venue.

``Simulator`` is what the aiohttp app (``server.py``) and the admin endpoint (``admin.py``) drive; tests of pure
engine behaviour can use it directly, without a server.
"""

from __future__ import annotations

import importlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.sim.clock import SETTLEMENT_GRID_MS, SimClock, aligned_start, wall_ms
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.faults import FaultInjector, FaultRule, WeightTracker
from arbx_pipelines.venues.sim.history import load_history
from arbx_pipelines.venues.sim.market import MarketModel
from arbx_pipelines.venues.sim.persistence import read_world, write_world
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.venue_api import VenueModule
from arbx_pipelines.venues.sim.world import check, restore, snapshot

log = get_logger("arbx.sim")

#: venue name -> module path exposing ``MODULE`` (a VenueModule subclass); missing modules are skipped
VENUE_MODULES: dict[str, str] = {
    "binance": "arbx_pipelines.venues.sim.binance",
    "okx": "arbx_pipelines.venues.sim.okx",
    "bitget": "arbx_pipelines.venues.sim.bitget",
}


def available_venue_modules() -> dict[str, type[VenueModule]]:
    """Venue modules that are installed, by venue name."""
    found: dict[str, type[VenueModule]] = {}
    for name, module_path in VENUE_MODULES.items():
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            if exc.name and module_path.startswith(exc.name):
                continue
            raise
        found[name] = module.MODULE
    return found


def clock_start(settings: SimSettings) -> tuple[int, int]:
    """(reported time at start, market time - reported time): see ``SimSettings.market_start_ms``."""
    market = settings.market_start_ms
    if market is None:
        return (wall_ms() if settings.start_ms is None else settings.start_ms), 0
    start = aligned_start(wall_ms(), market) if settings.start_ms is None else settings.start_ms
    if (market - start) % SETTLEMENT_GRID_MS:
        raise ValueError("start_ms and market_start_ms must differ by a whole number of 8h settlement grids")
    return start, market - start


def continued_clock(world: dict[str, Any], settings: SimSettings) -> tuple[int, int]:
    """A saved world's clock: a stepped clock goes on from where it stood, a running one never starts behind the
    wall clock (what the venues did while the simulator was down, e.g. funding settlements, then happens at once)."""
    saved = int(world["clock"]["now_ms"])
    return (max(saved, wall_ms()) if settings.clock_running else saved), int(world["clock"]["market_offset_ms"])


@dataclass
class VenueSlot:
    engine: SimVenue
    module: VenueModule


class Simulator:
    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        #: saved venues this simulator does not serve: kept as they are in the saved world
        self.unserved_venues: dict[str, Any] = {}
        world = read_world(settings.state_path) if settings.state_path is not None else None
        if world is not None:
            check(world, settings.seed)
        start_ms, market_offset_ms = clock_start(settings) if world is None else continued_clock(world, settings)
        self.clock = SimClock(start_ms, settings.speed, running=settings.clock_running)
        self.history = load_history(settings.history_dir)
        self.market = MarketModel(settings.seed, self.history, market_offset_ms)
        self.faults = FaultInjector(seed=settings.seed)
        self.weights = WeightTracker()
        #: the latest requests served, as (venue, "METHOD /path"): how tests see what a ccxt call touched
        self.request_log: deque[tuple[str, str]] = deque(maxlen=2000)
        for data in settings.faults:
            self.faults.add(FaultRule.from_dict(dict(data)))
        modules = available_venue_modules()
        wanted = settings.venues or tuple(modules)
        missing = [name for name in wanted if name not in modules]
        if missing:
            raise ValueError(f"no simulated venue module for {missing}; installed: {sorted(modules)}")
        self.venues: dict[str, VenueSlot] = {}
        for name in wanted:
            module_class = modules[name]
            engine = SimVenue(
                name=name,
                instruments=module_class.instruments(settings.seed, self.history),
                market=self.market,
                clock=self.clock,
                fees=settings.fees_for(name),
                wallets=module_class.initial_wallets(settings.start_balance_usdt),
                seed=settings.seed,
            )
            self.venues[name] = VenueSlot(engine, module_class(engine, settings))
        if world is not None:
            restore(self, world)
        #: set when a request may have changed an account; the server then saves the world (``save``)
        self.dirty = False
        self._saved_fingerprint = self.fingerprint()
        log.info("simulator ready", extra={"venues": list(self.venues), "replayed_series": len(self.history.series),
                                           "continued": world is not None})  # fmt: skip

    def venue(self, name: str) -> VenueSlot:
        slot = self.venues.get(name)
        if slot is None:
            raise KeyError(f"unknown venue {name!r}; served: {sorted(self.venues)}")
        return slot

    def sync_all(self) -> None:
        for slot in self.venues.values():
            slot.engine.sync()

    def fingerprint(self) -> tuple[int, ...]:
        """Changes when a settlement, a resting order's fill or a liquidation (which need no request) touched an
        account; cheap enough to check every second."""
        return tuple(len(s.engine.account.ledger) + len(s.engine.trading.trades) for s in self.venues.values())

    def unsaved(self) -> dict[str, Any] | None:
        """The world to save when something changed since the last save (None: nothing to save)."""
        fingerprint = self.fingerprint()
        if self.settings.state_path is None or (not self.dirty and fingerprint == self._saved_fingerprint):
            return None
        self.dirty, self._saved_fingerprint = False, fingerprint
        return snapshot(self)

    def save(self) -> None:
        """Write the whole world now (on stop)."""
        if self.settings.state_path is not None:
            write_world(self.settings.state_path, snapshot(self))
            self.dirty, self._saved_fingerprint = False, self.fingerprint()
