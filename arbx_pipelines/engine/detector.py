"""Detection on each book update: every other venue's book of the same symbol, both directions, through
:func:`arbx_pipelines.core.spread.best_spread` (taker fees both sides, min profit rate and min profit), sized by
the inventory left on both venues (base on the sell venue, quote on the buy venue) and the per-trade risk cap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.models import Side
from arbx_pipelines.core.sizing import round_price
from arbx_pipelines.core.spread import BookLevel, SpreadQuote, best_spread
from arbx_pipelines.core.venue_data import MarketInfo

DETECT_LEVELS = 20


@dataclass(frozen=True)
class Opportunity:
    symbol: str
    buy_venue: str
    sell_venue: str
    quote: SpreadQuote
    detected_at: float

    @property
    def expected_profit(self) -> Decimal:
        return self.quote.profit


def levels(side: Sequence[Sequence[Any]]) -> tuple[BookLevel, ...]:
    """ccxt book levels (floats) as Decimal (price, amount), best first."""
    return tuple((Decimal(repr(level[0])), Decimal(repr(level[1]))) for level in side[:DETECT_LEVELS])


#: the default of ``spread.max_book_skew_ms``
MAX_BOOK_SKEW_MS = 200


@dataclass(frozen=True)
class DetectionLimits:
    min_profit_rate: Decimal
    min_profit: Decimal
    max_trade_quote: Decimal
    #: two books whose venue timestamps lie further apart are not compared (see :func:`detect`)
    max_book_skew_ms: int = MAX_BOOK_SKEW_MS


class Book:
    """One venue's book as detection needs it: the top levels copied from the stream (ccxt updates its levels in
    place) and the best prices for the crossing check every update makes. The Decimal levels of the depth walk are
    built only when the books cross, which most updates never do: converting 80 floats on each of the stream's
    updates was a tenth of the engine's CPU. ``repr`` keeps the venue's decimal price, and floats and their
    Decimal images order alike, so the check answers as the Decimal comparison would."""

    __slots__ = ("_asks", "_bids", "_raw_asks", "_raw_bids", "best_ask", "best_bid", "timestamp")

    def __init__(self, bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...], timestamp: int | None = None) -> None:
        self._bids: tuple[BookLevel, ...] | None = bids
        self._asks: tuple[BookLevel, ...] | None = asks
        self._raw_bids: list[tuple[float, float]] = []
        self._raw_asks: list[tuple[float, float]] = []
        self.best_bid = float(bids[0][0]) if bids else None
        self.best_ask = float(asks[0][0]) if asks else None
        #: the venue's time of the book (ms), when it says
        self.timestamp = timestamp

    @classmethod
    def from_stream(cls, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]],
                    timestamp: int | None = None) -> Book:  # fmt: skip
        book = cls.__new__(cls)
        book._bids = book._asks = None
        book.timestamp = timestamp
        book._raw_bids = [(level[0], level[1]) for level in bids[:DETECT_LEVELS]]
        book._raw_asks = [(level[0], level[1]) for level in asks[:DETECT_LEVELS]]
        book.best_bid = book._raw_bids[0][0] if book._raw_bids else None
        book.best_ask = book._raw_asks[0][0] if book._raw_asks else None
        return book

    @property
    def bids(self) -> tuple[BookLevel, ...]:
        if self._bids is None:
            self._bids = levels(self._raw_bids)
        return self._bids

    @property
    def asks(self) -> tuple[BookLevel, ...]:
        if self._asks is None:
            self._asks = levels(self._raw_asks)
        return self._asks


def detect(
    symbol: str,
    changed: str,
    books: Mapping[str, Book],
    markets: Mapping[str, MarketInfo],
    free: Mapping[tuple[str, str], Decimal],
    limits: DetectionLimits,
    now: float,
) -> list[Opportunity]:
    """Opportunities between the venue whose book just changed and every other venue with a book of ``symbol``.

    Two books are compared only when the venues' times of them lie within ``limits.max_book_skew_ms``: the first
    venue to report a new moment is otherwise compared with the others' books of the moment before, and a spread that
    has just closed still shows (the classic stale-quote arbitrage: one leg fills, the other finds the price gone).
    A book without a venue time is not held back."""
    found: list[Opportunity] = []
    base, quote_asset = symbol.split("/")
    changed_at = books[changed].timestamp
    for other in books:
        if other == changed:
            continue
        other_at = books[other].timestamp
        if changed_at is not None and other_at is not None and abs(changed_at - other_at) > limits.max_book_skew_ms:
            continue
        for buy, sell in ((changed, other), (other, changed)):
            buy_book, sell_book = books[buy], books[sell]
            best_ask, best_bid = buy_book.best_ask, sell_book.best_bid
            if best_ask is None or best_bid is None or best_ask >= best_bid:
                continue
            buy_market, sell_market = markets[buy], markets[sell]
            max_amount = min(free.get((sell, base), Decimal(0)), limits.max_trade_quote / buy_book.asks[0][0])
            result = best_spread(
                buy_book.asks,
                sell_book.bids,
                buy_market.taker_fee or Decimal("0.001"),
                sell_market.taker_fee or Decimal("0.001"),
                min_profit_rate=limits.min_profit_rate,
                min_profit=limits.min_profit,
                max_amount=max(max_amount, Decimal(0)),
                max_buy_quote=max(free.get((buy, quote_asset), Decimal(0)), Decimal(0)),
                buy_rules=buy_market.rules,
                sell_rules=sell_market.rules,
            )
            if isinstance(result, SpreadQuote):
                found.append(Opportunity(symbol, buy, sell, result, now))
    return found


@dataclass(frozen=True)
class LimitPrices:
    buy: Decimal
    sell: Decimal


def order_limits(quote: SpreadQuote, min_profit_rate: Decimal, max_slippage: Decimal, buy_market: MarketInfo,
                 sell_market: MarketInfo) -> LimitPrices:  # fmt: skip
    """IOC limits that still validate: each side may give up to half the edge above ``min_profit_rate`` (at most
    ``max_slippage``) beyond the worst level walked, so a book that moved a tick still fills, while even both legs
    filled at their limits keep the min profit rate. Rounded to the tick inward (never past the allowance)."""
    room = max((quote.profit_rate - min_profit_rate) / 2, Decimal(0))
    tolerance = min(room, max_slippage)
    buy = round_price(quote.buy_limit * (1 + tolerance), buy_market.rules, Side.BUY)
    sell = round_price(quote.sell_limit * (1 - tolerance), sell_market.rules, Side.SELL)
    return LimitPrices(max(buy, quote.buy_limit), min(sell, quote.sell_limit))
