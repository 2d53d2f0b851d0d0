"""Funding settles into open positions at each settlement instant, lands in the ledger, and follows overrides."""

from __future__ import annotations

from decimal import Decimal

from sim_engine_support import frozen_simulator

from arbx_pipelines.venues.sim.market import Override, next_settlement
from arbx_pipelines.venues.sim.orders import LedgerKind, OrderRequest, OrderType


def _short(symbol: str, amount: str) -> OrderRequest:
    return OrderRequest(symbol, "sell", OrderType.MARKET, Decimal(amount))


def test_funding_is_settled_at_each_settlement_time() -> None:
    sim = frozen_simulator()
    engine = sim.venue("binance").engine
    one_hour = next(i for i in engine.swaps() if i.funding_interval_hours == 1)
    amount = (
        Decimal(30) / engine.mark_price(one_hour.symbol) / one_hour.lot_size
    ).to_integral_value() * one_hour.lot_size
    engine.trading.create(_short(one_hour.symbol, str(amount)))
    start = sim.clock.now_ms()
    wallet_before = engine.account.wallet_balance()
    sim.clock.advance(3 * 3_600_000 + 1000)
    engine.sync()
    entries = [e for e in engine.account.ledger if e.kind is LedgerKind.FUNDING]
    # the settlements after the short opened (the clock starts on the hour: that settlement came before the short)
    history = engine.funding_history(one_hour.symbol, start + 1, sim.clock.now_ms())
    assert [e.time_ms for e in entries] == [p.time_ms for p in history] and len(entries) == 3
    for entry, point in zip(entries, history, strict=True):
        assert entry.amount == (amount * point.mark_price * point.rate).quantize(Decimal("0.00000001"))
        assert entry.symbol == one_hour.symbol
    assert engine.account.wallet_balance() == wallet_before + sum(e.amount for e in entries)


def test_a_funding_override_pays_at_the_next_settlement_and_stays_in_history() -> None:
    sim = frozen_simulator()
    engine = sim.venue("binance").engine
    engine.trading.create(_short("ETH/USDT:USDT", "0.05"))
    now = sim.clock.now_ms()
    sim.market.funding_overrides.append(Override("binance", "ETH", now, None, 0.003))
    settle = next_settlement(8, now)
    assert engine.funding("ETH/USDT:USDT").rate == Decimal("0.003")
    sim.clock.advance(settle - now + 1)
    engine.sync()
    funding = [e for e in engine.account.ledger if e.kind is LedgerKind.FUNDING]
    assert len(funding) == 1 and funding[0].time_ms == settle and funding[0].amount > 0
    assert engine.funding_history("ETH/USDT:USDT", settle, settle)[0].rate == Decimal("0.003")
    before = engine.funding_history("ETH/USDT:USDT", settle - 8 * 3_600_000, settle - 8 * 3_600_000)[0]
    assert before.rate != Decimal("0.003")
