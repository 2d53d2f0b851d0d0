"""Walking a book: the pure part of order matching (no balances, no state).

A taker order consumes levels best-first while the limit price allows; ``max_qty`` caps the fill (used by the
partial-fill fault). The caller decides what happens to the rest (expire for market/IOC, rest for GTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from arbx_pipelines.venues.sim.book import Level, OrderBook

ZERO = Decimal(0)


def crosses(is_buy: bool, limit_price: Decimal | None, book: OrderBook) -> bool:
    """Whether an order at ``limit_price`` would take liquidity right now."""
    if limit_price is None:
        return True
    if is_buy:
        return bool(book.asks) and limit_price >= book.best_ask
    return bool(book.bids) and limit_price <= book.best_bid


def walk(levels: Sequence[Level], is_buy: bool, qty: Decimal, limit_price: Decimal | None) -> list[Level]:
    """Fills ``[(price, qty), ...]`` from consuming ``levels`` (asks for a buy, bids for a sell)."""
    fills: list[Level] = []
    remaining = qty
    for price, available in levels:
        if remaining <= 0:
            break
        if limit_price is not None and (price > limit_price if is_buy else price < limit_price):
            break
        take = min(remaining, available)
        fills.append((price, take))
        remaining -= take
    return fills


def walk_quote(levels: Sequence[Level], quote: Decimal, lot: Decimal) -> list[Level]:
    """Fills for a market buy sized in quote currency: spend up to ``quote``, whole lots only."""
    fills: list[Level] = []
    budget = quote
    for price, available in levels:
        if budget <= 0:
            break
        affordable = (budget / price // lot) * lot
        take = min(available, affordable)
        if take <= 0:
            break
        fills.append((price, take))
        budget -= take * price
    return fills


def fillable_qty(levels: Sequence[Level], is_buy: bool, limit_price: Decimal | None) -> Decimal:
    """Total quantity available at or better than ``limit_price`` (for fill-or-kill)."""
    total = ZERO
    for price, available in levels:
        if limit_price is not None and (price > limit_price if is_buy else price < limit_price):
            break
        total += available
    return total


def vwap(fills: Sequence[Level]) -> Decimal | None:
    qty = sum((q for _, q in fills), ZERO)
    if qty == 0:
        return None
    return sum((p * q for p, q in fills), ZERO) / qty
