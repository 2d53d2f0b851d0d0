"""The simulated market follows the simulator's own clock and seed, never the wall clock: two simulators started at
different instants on the same market start show the same prices, books and funding at the same elapsed time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_engine_support import START_MS

from arbx_pipelines.venues.sim.clock import HOUR_MS, SETTLEMENT_GRID_MS, SimClock, aligned_start
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.simulator import Simulator

PERP, SPOT = "DOGE/USDT:USDT", "DOGE/USDT"


def _simulator(start_ms: int, market_start_ms: int | None = START_MS) -> Simulator:
    settings = SimSettings(port=0, seed=11, history_dir=None, venues=("binance",), start_ms=start_ms,
                           market_start_ms=market_start_ms, clock_running=False)  # fmt: skip
    return Simulator(settings)


def _view(simulator: Simulator) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    engine = simulator.venue("binance").engine
    book = engine.book(PERP, 5)
    return engine.mark_price(PERP), engine.last_price(SPOT), book.best_bid, book.bids[2][1], engine.funding(PERP).rate


def test_aligned_start_is_the_first_instant_from_now_on_the_market_starts_grid_place() -> None:
    for wall in (START_MS + 12_345, START_MS + 3 * SETTLEMENT_GRID_MS - 1, START_MS + 40 * 24 * HOUR_MS):
        start = aligned_start(wall, START_MS)
        assert wall <= start < wall + SETTLEMENT_GRID_MS and (start - START_MS) % SETTLEMENT_GRID_MS == 0
    assert aligned_start(START_MS + SETTLEMENT_GRID_MS, START_MS) == START_MS + SETTLEMENT_GRID_MS


def test_the_market_depends_on_elapsed_simulated_time_not_on_the_reported_date() -> None:
    early, late = _simulator(START_MS + 16 * HOUR_MS), _simulator(START_MS + 500 * SETTLEMENT_GRID_MS)
    assert early.clock.now_ms() != late.clock.now_ms()
    assert _view(early) == _view(late)
    for simulator in (early, late):
        simulator.clock.advance(5 * HOUR_MS + 1234)
    assert _view(early) == _view(late)
    calendar = _simulator(START_MS + 16 * HOUR_MS, market_start_ms=None)  # the market follows the reported date
    assert _view(calendar) != _view(early)


def test_a_stepped_clock_stands_still_until_advanced() -> None:
    clock = SimClock(START_MS, running=False)
    assert clock.paused and clock.now_ms() == START_MS
    assert clock.advance(1500) == START_MS + 1500 == clock.now_ms()


def test_a_market_shift_off_the_settlement_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="8h settlement grid"):
        _simulator(START_MS + HOUR_MS)
