"""The core's :class:`MarketSnapshot` of one perpetual and its spot pair, from the venue right now: funding rate and
interval, both books with the depth within the tolerated slippage, and both markets' rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.decision import MarketSnapshot
from arbx_pipelines.core.models import spot_symbol_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.venue_data import FundingInfo, MarketInfo, OrderBook
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

BOOK_LEVELS = 20


@dataclass(frozen=True)
class LiveMarket:
    snapshot: MarketSnapshot
    funding: FundingInfo
    spot: MarketInfo
    perp: MarketInfo
    spot_book: OrderBook
    perp_book: OrderBook


def depth_within(levels: tuple[tuple[Decimal, Decimal], ...], max_slippage: Decimal, buying: bool) -> Decimal:
    """Quote notional on one side of a book within ``max_slippage`` of its best price."""
    if not levels:
        return ZERO
    best = levels[0][0]
    limit = best * (1 + max_slippage) if buying else best * (1 - max_slippage)
    return sum((price * amount for price, amount in levels if (price <= limit if buying else price >= limit)), ZERO)


async def live_market(client: VenueClient, symbol: str, max_slippage: Decimal) -> LiveMarket:
    spot_symbol = spot_symbol_of(symbol)
    perp_info, spot_info = await asyncio.gather(client.market(symbol), client.market(spot_symbol))
    funding_list, spot_book, perp_book = await asyncio.gather(
        client.funding_rates([symbol]),
        client.order_book(spot_symbol, BOOK_LEVELS),
        client.order_book(symbol, BOOK_LEVELS),
    )
    funding = next((item for item in funding_list if item.symbol == symbol), None)
    if funding is None:
        raise VenueError(client.venue, f"no funding rate for {symbol}")
    for book in (spot_book, perp_book):
        if book.best_bid is None or book.best_ask is None:
            raise VenueError(client.venue, f"{book.symbol}: empty order book")
    assert spot_book.best_bid and spot_book.best_ask and perp_book.best_bid and perp_book.best_ask
    mark = funding.mark_price or (perp_book.best_bid + perp_book.best_ask) / 2
    snapshot = MarketSnapshot(
        venue=client.venue,
        symbol=symbol,
        time=funding.time,
        rate=funding.rate,
        interval_hours=funding.interval_hours,
        next_funding_time=funding.next_funding_time,
        mark_price=mark,
        spot_bid=spot_book.best_bid,
        spot_ask=spot_book.best_ask,
        perp_bid=perp_book.best_bid,
        perp_ask=perp_book.best_ask,
        spot_bid_depth=depth_within(spot_book.bids, max_slippage, buying=False),
        spot_ask_depth=depth_within(spot_book.asks, max_slippage, buying=True),
        perp_bid_depth=depth_within(perp_book.bids, max_slippage, buying=False),
        perp_ask_depth=depth_within(perp_book.asks, max_slippage, buying=True),
        spot_rules=spot_info.rules,
        perp_rules=perp_info.rules,
    )
    return LiveMarket(snapshot, funding, spot_info, perp_info, spot_book, perp_book)
