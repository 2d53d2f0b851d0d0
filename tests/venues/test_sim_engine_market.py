"""The simulated market: deterministic for a seed, enough instruments with every funding interval, calm and
extreme funding regimes, replay of recorded history, and order books of realistic depth."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sim_engine_support import START_MS

from arbx_pipelines.venues.sim.book import build_book
from arbx_pipelines.venues.sim.clock import DAY_MS, HOUR_MS
from arbx_pipelines.venues.sim.history import EMPTY_HISTORY, load_history
from arbx_pipelines.venues.sim.market import MarketModel, settlements_between
from arbx_pipelines.venues.sim.universe import build_instruments, venue_coins

COINS = ("BTC", "ETH", "SOL", "DOGE", "LINK")


def _snapshot(model: MarketModel) -> list[float]:
    values = []
    for coin in COINS:
        for step in range(0, 48):
            t = START_MS + step * 3_600_000 + 12_345
            values += [model.spot_price("binance", coin, t), model.perp_price("okx", coin, t)]
            values.append(model.funding_rate("bitget", coin, 8, (t // (8 * HOUR_MS) + 1) * 8 * HOUR_MS))
    return values


def test_market_is_deterministic_for_a_seed() -> None:
    first = _snapshot(MarketModel(5, EMPTY_HISTORY))
    assert first == _snapshot(MarketModel(5, EMPTY_HISTORY))
    assert first != _snapshot(MarketModel(6, EMPTY_HISTORY))


def test_every_venue_lists_50_pairs_with_8h_4h_and_1h_perpetuals(shared_dir: Path) -> None:
    for history in (EMPTY_HISTORY, load_history(shared_dir / "data")):
        for venue in ("binance", "okx", "bitget"):
            instruments = build_instruments(venue_coins(venue, 3, history))
            swaps = [i for i in instruments.values() if i.is_swap]
            spots = {i.symbol for i in instruments.values() if not i.is_swap}
            assert len(swaps) >= 50, venue
            assert all(s.spot_symbol in spots for s in swaps)
            assert {1, 4, 8} <= {s.funding_interval_hours for s in swaps}, venue


def test_generated_funding_has_calm_and_extreme_regimes() -> None:
    model = MarketModel(9, EMPTY_HISTORY)
    rates = [
        model.funding_rate("binance", coin, 8, settle)
        for coin in ("SOL", "DOGE", "LINK", "ARB", "WIF", "SUI", "TIA", "INJ")
        for settle in settlements_between(8, START_MS, START_MS + 180 * DAY_MS)
    ]
    extreme = sum(1 for rate in rates if abs(rate) >= 0.0008) / len(rates)
    baseline = sum(1 for rate in rates if rate == 0.0001) / len(rates)
    assert 0.03 <= extreme <= 0.4
    assert baseline >= 0.3
    assert max(abs(rate) for rate in rates) <= 0.02
    assert any(rate < 0 for rate in rates) and any(rate > 0.001 for rate in rates)


def test_replay_serves_the_recorded_binance_rates(shared_dir: Path) -> None:
    folder = shared_dir / "data"
    model = MarketModel(1, load_history(folder))
    recorded = json.loads((folder / "binance_usdm_funding_95_symbols_2025" / "BLZUSDT_funding.json").read_text())
    series = model.replay_series("binance", "BLZ")
    assert series is not None and series.interval_hours == 4
    for row in recorded[5:40]:
        settle = round(row["fundingTime"] / (4 * HOUR_MS)) * 4 * HOUR_MS
        assert model.funding_rate("binance", "BLZ", 4, settle) == float(row["fundingRate"])
    okx_btc = model.replay_series("okx", "BTC")
    assert okx_btc is not None and okx_btc.spot_prices is not None
    assert model.perp_price("binance", "BTC", okx_btc.times[10]) > 10000


def test_order_books_have_realistic_depth_on_the_grid() -> None:
    instruments = build_instruments(venue_coins("binance", 3, EMPTY_HISTORY))
    for symbol in ("BTC/USDT", "BTC/USDT:USDT", "DOGE/USDT:USDT"):
        instrument = instruments[symbol]
        mid = MarketModel(3, EMPTY_HISTORY).spot_price("binance", instrument.base, START_MS)
        book = build_book(instrument, mid, START_MS, 77, levels=100)
        assert book == build_book(instrument, mid, START_MS, 77, levels=100)
        assert len(book.bids) == len(book.asks) == 100
        assert book.best_bid < book.best_ask
        assert all(a[0] > b[0] for a, b in zip(book.bids, book.bids[1:], strict=False))
        assert all(a[0] < b[0] for a, b in zip(book.asks, book.asks[1:], strict=False))
        spread_bps = (book.best_ask - book.best_bid) / book.mid * 10000
        assert spread_bps < 20
        near = sum(p * q for p, q in book.asks if p <= book.mid * Decimal("1.005"))
        assert near > Decimal(instrument.depth_usd)
        for price, qty in book.bids + book.asks:
            assert price % instrument.tick_size == 0 and qty % instrument.lot_size == 0 and qty > 0
