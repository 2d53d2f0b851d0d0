"""Detection on a book update: both directions against every other venue, sized by inventory and the trade cap."""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.core.models import MarketType, Venue
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.engine.detector import Book, DetectionLimits, detect

D = Decimal
LIMITS = DetectionLimits(min_profit_rate=D("0.001"), min_profit=D("0.01"), max_trade_quote=D("1000"))


def _market(venue: Venue) -> MarketInfo:
    rules = MarketRules(amount_step=D("0.001"))
    return MarketInfo(venue, "ETH/USDT", "ETHUSDT", MarketType.SPOT, "ETH", "USDT", rules, taker_fee=D("0.001"))


MARKETS = {"binance": _market(Venue.BINANCE), "okx": _market(Venue.OKX)}


def test_buys_on_the_cheap_venue_sells_on_the_dear_one_within_inventory() -> None:
    books = {"binance": Book(bids=((D(99), D(5)),), asks=((D(100), D(5)),)),
             "okx": Book(bids=((D(101), D(5)),), asks=((D(102), D(5)),))}  # fmt: skip
    free = {("okx", "ETH"): D("0.5"), ("binance", "USDT"): D(1000)}
    (found,) = detect("ETH/USDT", "okx", books, MARKETS, free, LIMITS, now=1.0)
    assert (found.buy_venue, found.sell_venue) == ("binance", "okx")
    assert found.quote.amount == D("0.5")  # the coins on the sell venue cap it
    assert found.quote.buy_limit == D(100) and found.quote.sell_limit == D(101)
    assert found.expected_profit > 0


def test_no_opportunity_when_fees_eat_the_spread_or_inventory_is_missing() -> None:
    books = {"binance": Book(bids=((D("99.9"), D(5)),), asks=((D(100), D(5)),)),
             "okx": Book(bids=((D("100.1"), D(5)),), asks=((D("100.2"), D(5)),))}  # fmt: skip
    free = {("okx", "ETH"): D(5), ("binance", "USDT"): D(1000)}
    assert detect("ETH/USDT", "binance", books, MARKETS, free, LIMITS, now=1.0) == []
    wide = {"binance": books["binance"], "okx": Book(bids=((D(101), D(5)),), asks=((D(102), D(5)),))}
    assert detect("ETH/USDT", "binance", wide, MARKETS, {("binance", "USDT"): D(1000)}, LIMITS, now=1.0) == []
