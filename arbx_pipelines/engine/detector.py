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


@dataclass(frozen=True)
class DetectionLimits:
    min_profit_rate: Decimal
    min_profit: Decimal
    max_trade_quote: Decimal


@dataclass
class Book:
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


def detect(
    symbol: str,
    changed: str,
    books: Mapping[str, Book],
    markets: Mapping[str, MarketInfo],
    free: Mapping[tuple[str, str], Decimal],
    limits: DetectionLimits,
    now: float,
) -> list[Opportunity]:
    """Opportunities between the venue whose book just changed and every other venue with a book of ``symbol``."""
    found: list[Opportunity] = []
    base, quote_asset = symbol.split("/")
    for other in books:
        if other == changed:
            continue
        for buy, sell in ((changed, other), (other, changed)):
            buy_book, sell_book = books[buy], books[sell]
            if not buy_book.asks or not sell_book.bids or buy_book.asks[0][0] >= sell_book.bids[0][0]:
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
