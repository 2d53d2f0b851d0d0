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


def test_a_stream_book_is_copied_and_detected_like_its_decimal_image() -> None:
    """The engine keeps the stream's floats (ccxt updates its levels in place, so they are copied) and builds the
    Decimal levels only when the books cross; the outcome is the one the Decimal book gives."""
    stream_bids = [[99.9, 5.0, 3], [99.8, 1.25, 1]]
    stream_asks = [[100.0, 5.0, 2]]
    binance = Book.from_stream(stream_bids, stream_asks)
    stream_bids[0][1] = 0.0  # ccxt's next update, in place
    assert binance.bids == ((D("99.9"), D("5.0")), (D("99.8"), D("1.25"))) and binance.asks == ((D("100.0"), D("5.0")),)
    crossing = Book.from_stream([[101.0, 5.0]], [[102.0, 5.0]])
    free = {("okx", "ETH"): D(2), ("binance", "USDT"): D(1000)}
    from_stream = detect("ETH/USDT", "okx", {"binance": binance, "okx": crossing}, MARKETS, free, LIMITS, 0.0)
    decimal_books = {"binance": Book(binance.bids, binance.asks), "okx": Book(crossing.bids, crossing.asks)}
    assert [o.quote for o in from_stream] == [o.quote for o in detect("ETH/USDT", "okx", decimal_books, MARKETS, free,
                                                                       LIMITS, 0.0)]  # fmt: skip
    assert from_stream and from_stream[0].buy_venue == "binance"
    untouched = Book.from_stream([[99.0, 1.0]], [[100.5, 1.0]])
    assert detect("ETH/USDT", "okx", {"binance": binance, "okx": untouched}, MARKETS, free, LIMITS, 0.0) == []
    assert untouched._asks is None and untouched._bids is None  # no crossing: no Decimal levels built


def test_books_of_different_moments_are_not_compared() -> None:
    """The first venue to report a new moment would otherwise meet the others' books of the moment before, where a
    spread that has just closed still shows; within the skew, or without a venue time, they are compared."""
    free = {("okx", "ETH"): D(2), ("binance", "USDT"): D(1000)}
    cheap = Book(bids=((D(99), D(5)),), asks=((D(100), D(5)),), timestamp=1_000)
    for dear_at, found in ((1_250, False), (1_200, True), (800, True), (None, True)):
        dear = Book(bids=((D(101), D(5)),), asks=((D(102), D(5)),), timestamp=dear_at)
        books = {"binance": cheap, "okx": dear}
        assert bool(detect("ETH/USDT", "okx", books, MARKETS, free, LIMITS, 0.0)) is found, dear_at
    strict = DetectionLimits(LIMITS.min_profit_rate, LIMITS.min_profit, LIMITS.max_trade_quote, max_book_skew_ms=10)
    books = {"binance": cheap, "okx": Book(bids=((D(101), D(5)),), asks=((D(102), D(5)),), timestamp=1_011)}
    assert detect("ETH/USDT", "binance", books, MARKETS, free, strict, 0.0) == []
