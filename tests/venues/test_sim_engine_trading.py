"""Engine order handling: matching against the book, fees, order types, rejections, positions and liquidation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_engine_support import frozen_simulator

from arbx_pipelines.venues.sim.accounts import FUTURES, SPOT
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.margin import liquidation_price
from arbx_pipelines.venues.sim.market import Override
from arbx_pipelines.venues.sim.matching import vwap, walk
from arbx_pipelines.venues.sim.orders import LedgerKind, OrderRequest, OrderStatus, OrderType, TimeInForce
from arbx_pipelines.venues.sim.simulator import Simulator


@pytest.fixture
def sim() -> Simulator:
    return frozen_simulator()


def _market(symbol: str, side: str, amount: str, **extra: object) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=side, type=OrderType.MARKET, amount=Decimal(amount), **extra)  # type: ignore[arg-type]


def _limit(symbol: str, side: str, amount: str, price: Decimal, tif: TimeInForce = TimeInForce.GTC) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, Decimal(amount), price, tif)


def test_spot_market_buy_walks_the_book_and_pays_the_fee_in_base(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    book = engine.book("ETH/USDT", 200)
    expected = walk(book.asks, True, Decimal("0.05"), None)
    order = engine.trading.create(_market("ETH/USDT", "buy", "0.05"))
    assert order.status is OrderStatus.FILLED and order.filled == Decimal("0.05")
    assert order.average == vwap(expected)
    spot = engine.account.wallets[SPOT]
    assert spot["ETH"].free == Decimal("0.05") * (1 - engine.fees.spot_taker)
    assert spot["USDT"].free == Decimal(250) - order.cost


def test_spot_sell_pays_the_fee_in_quote(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.account.credit(SPOT, "SOL", Decimal(2))
    order = engine.trading.create(_market("SOL/USDT", "sell", "1"))
    assert engine.account.wallets[SPOT]["USDT"].free == Decimal(250) + order.cost * (1 - engine.fees.spot_taker)
    assert order.fills[0].fee_asset == "USDT"


def test_perpetual_short_opens_a_position_and_pays_taker_fee(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    order = engine.trading.create(_market("ETH/USDT:USDT", "sell", "0.05"))
    position = engine.account.positions["ETH/USDT:USDT"]
    assert position.qty == Decimal("-0.05") and position.entry_price == order.average
    fee = order.cost * engine.fees.swap_taker
    assert engine.account.wallet_balance() == Decimal(250) - fee
    kinds = [entry.kind for entry in engine.account.ledger]
    assert LedgerKind.COMMISSION in kinds


def test_resting_limit_fills_as_maker_when_the_market_crosses_it(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    best_bid = engine.book("SOL/USDT:USDT").best_bid
    price = (best_bid * Decimal("0.98")).quantize(engine.instrument("SOL/USDT:USDT").tick_size)
    order = engine.trading.create(_limit("SOL/USDT:USDT", "buy", "1", price))
    assert order.status is OrderStatus.NEW and engine.trading.open_orders("SOL/USDT:USDT") == [order]
    sim.market.price_overrides.append(Override("binance", "SOL", sim.clock.now_ms(), None, 0.95))
    sim.clock.advance(1000)
    engine.sync()
    assert order.status is OrderStatus.FILLED and order.average == price
    assert order.fills[0].is_maker and order.fills[0].fee == price * engine.fees.swap_maker


def test_ioc_and_fok_do_not_rest(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.account.credit(FUTURES, "USDT", Decimal(10**7))
    book = engine.book("ETH/USDT:USDT", 200)
    first_level_price, first_level_qty = book.asks[0]
    amount = str(first_level_qty * 3)
    ioc = engine.trading.create(_limit("ETH/USDT:USDT", "buy", amount, first_level_price, TimeInForce.IOC))
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled == first_level_qty
    fok = engine.trading.create(_limit("ETH/USDT:USDT", "buy", amount, first_level_price, TimeInForce.FOK))
    assert fok.status is OrderStatus.EXPIRED and fok.filled == 0


def test_post_only_never_takes(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    ask = engine.book("ETH/USDT").best_ask
    with pytest.raises(SimError) as error:
        engine.trading.create(_limit("ETH/USDT", "buy", "0.01", ask, TimeInForce.POST_ONLY))
    assert error.value.kind is ErrorKind.POST_ONLY_REJECTED
    swap_ask = engine.book("ETH/USDT:USDT").best_ask
    order = engine.trading.create(_limit("ETH/USDT:USDT", "buy", "0.01", swap_ask, TimeInForce.POST_ONLY))
    assert order.status is OrderStatus.EXPIRED and order.filled == 0


@pytest.mark.parametrize(
    ("request_", "kind"),
    [
        (_market("ETH/USDT:USDT", "buy", "0.001"), ErrorKind.MIN_NOTIONAL),
        (_market("ETH/USDT", "buy", "0.0001"), ErrorKind.MIN_NOTIONAL),
        (_market("ETH/USDT:USDT", "buy", "0.0105"), ErrorKind.LOT_SIZE),
        (_market("ETH/USDT:USDT", "buy", "1", reduce_only=True), ErrorKind.REDUCE_ONLY_REJECTED),
        (_market("ETH/USDT:USDT", "buy", "5"), ErrorKind.INSUFFICIENT_MARGIN),
        (_market("ETH/USDT", "buy", "5"), ErrorKind.INSUFFICIENT_BALANCE),
        (_market("NOPE/USDT", "buy", "5"), ErrorKind.BAD_SYMBOL),
    ],
)
def test_rejections(sim: Simulator, request_: OrderRequest, kind: ErrorKind) -> None:
    with pytest.raises(SimError) as error:
        sim.venue("binance").engine.trading.create(request_)
    assert error.value.kind is kind


def test_reduce_only_is_trimmed_to_the_position(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.trading.create(_market("ETH/USDT:USDT", "sell", "0.05"))
    closing = engine.trading.create(_market("ETH/USDT:USDT", "buy", "0.2", reduce_only=True))
    assert closing.amount == Decimal("0.05") and closing.status is OrderStatus.FILLED
    assert engine.account.positions["ETH/USDT:USDT"].qty == 0


def test_partial_fill_ratio_caps_the_fill(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    order = engine.trading.create(_market("ETH/USDT:USDT", "sell", "0.04"), fill_ratio=Decimal("0.5"))
    assert order.filled == Decimal("0.02") and order.status is OrderStatus.EXPIRED


def test_client_order_ids_look_up_and_must_be_unique_while_open(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    price = (engine.book("ETH/USDT:USDT").best_bid * Decimal("0.9")).quantize(Decimal("0.1"))
    request = OrderRequest("ETH/USDT:USDT", "buy", OrderType.LIMIT, Decimal("0.02"), price, client_order_id="leg-1")
    order = engine.trading.create(request)
    assert engine.trading.order("ETH/USDT:USDT", client_order_id="leg-1") is order
    with pytest.raises(SimError) as error:
        engine.trading.create(request)
    assert error.value.kind is ErrorKind.DUPLICATE_CLIENT_ORDER_ID
    engine.trading.cancel("ETH/USDT:USDT", client_order_id="leg-1")
    with pytest.raises(SimError) as unknown:
        engine.trading.order("ETH/USDT:USDT", order_id=1)
    assert unknown.value.kind is ErrorKind.UNKNOWN_ORDER


def test_liquidation_price_matches_the_isolated_closed_form() -> None:
    entry, leverage, mmr, qty = Decimal(2000), Decimal(5), Decimal("0.01"), Decimal("0.5")
    margin = qty * entry / leverage
    long_liq = liquidation_price(qty, entry, margin, mmr)
    short_liq = liquidation_price(-qty, entry, margin, mmr)
    assert long_liq == entry * (1 - 1 / leverage) / (1 - mmr)
    assert short_liq == entry * (1 + 1 / leverage) / (1 + mmr)
    assert liquidation_price(qty, entry, Decimal(10**6), mmr) == 0


def test_isolated_position_is_liquidated_when_the_mark_crosses(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.set_leverage("SOL/USDT:USDT", 10)
    engine.set_margin_mode("SOL/USDT:USDT", "isolated")
    engine.trading.create(_market("SOL/USDT:USDT", "buy", "1"))
    position = engine.account.positions["SOL/USDT:USDT"]
    liquidation = engine.account.liquidation_price(position, engine.mark_price)
    assert liquidation == position.entry_price * Decimal("0.9") / (1 - position.instrument.maint_margin_rate)
    wallet_before = engine.account.wallet_balance()
    sim.market.price_overrides.append(Override("binance", "SOL", sim.clock.now_ms(), None, 0.85))
    sim.clock.advance(1000)
    engine.sync()
    assert position.qty == 0
    assert engine.account.wallet_balance() < wallet_before
    assert engine.account.ledger[-1].kind is LedgerKind.LIQUIDATION


def test_margin_mode_cannot_change_with_a_position(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.trading.create(_market("ETH/USDT:USDT", "sell", "0.05"))
    with pytest.raises(SimError) as error:
        engine.set_margin_mode("ETH/USDT:USDT", "isolated")
    assert error.value.kind is ErrorKind.MARGIN_MODE_LOCKED
    with pytest.raises(SimError):
        engine.set_leverage("ETH/USDT:USDT", 500)


def test_transfers_move_money_between_wallets(sim: Simulator) -> None:
    engine = sim.venue("binance").engine
    engine.transfer("USDT", Decimal(100), SPOT, FUTURES)
    assert engine.account.wallets[SPOT]["USDT"].free == Decimal(150)
    assert engine.account.wallet_balance() == Decimal(350)
    with pytest.raises(SimError) as error:
        engine.transfer("USDT", Decimal(1000), FUTURES, SPOT)
    assert error.value.kind is ErrorKind.INSUFFICIENT_BALANCE
