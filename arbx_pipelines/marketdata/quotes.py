"""Best bid/ask and top-of-book depth of the monitored symbols (spot and perp), stored and cached."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.models import Venue, spot_symbol_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.venue_data import OrderBook
from arbx_pipelines.storage.quotes import record_quotes
from arbx_pipelines.storage.state import StateStore
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

DEPTH_LEVELS = 10


def depth_usdt(levels: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    return sum((price * amount for price, amount in levels), ZERO)


async def fetch_books(
    clients: Mapping[Venue, VenueClient], perps: Iterable[tuple[Venue, str]], concurrency: int = 8
) -> tuple[list[OrderBook], list[str]]:
    """Books of each perp and its spot market; returns (books, failures)."""
    gate = asyncio.Semaphore(concurrency)
    wanted = [(venue, symbol) for venue, perp in perps for symbol in (perp, spot_symbol_of(perp))]

    async def one(venue: Venue, symbol: str) -> OrderBook | str:
        async with gate:
            try:
                return await clients[venue].order_book(symbol, DEPTH_LEVELS)
            except VenueError as exc:
                return f"{venue}:{symbol}: {exc}"

    answers = await asyncio.gather(*(one(v, s) for v, s in wanted))
    return [a for a in answers if isinstance(a, OrderBook)], [a for a in answers if isinstance(a, str)]


def store_quotes(engine: Engine, books: list[OrderBook], now: datetime, state: StateStore | None = None) -> int:
    rows = []
    for book in books:
        bid = book.bids[0] if book.bids else (None, None)
        ask = book.asks[0] if book.asks else (None, None)
        row = {
            "venue": book.venue.value, "symbol": book.symbol, "time": now, "bid": bid[0], "ask": ask[0],
            "bid_size": bid[1], "ask_size": ask[1], "bid_depth_usdt": depth_usdt(book.bids),
            "ask_depth_usdt": depth_usdt(book.asks),
        }  # fmt: skip
        rows.append(row)
        if state is not None:
            state.put_quote(book.venue.value, book.symbol, {k: str(v) for k, v in row.items() if v is not None})
    return record_quotes(engine, rows)
