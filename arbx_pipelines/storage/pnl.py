"""Reads for the P&L assets and reports: open exposure and per-day P&L components.

P&L components per UTC day and symbol (no double counting):
- funding: funding payments settled that day (``funding_payments.amount``, positive = received);
- fees: fees of fills that day, in USDT (a fee paid in the traded coin is valued at its fill price; a fee in any
  other currency is reported apart, unconverted);
- price P&L: realized when a hedge closes, on its closing day: the position's realized P&L minus the funding and
  fees it already booked (``realized_pnl - funding_received + fees_paid``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, and_, or_, select

from arbx_pipelines.core.daily_pnl import DayActivity
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.storage.models import Fill, FundingPayment, Position

OPEN_STATUSES = ("opening", "open", "closing")
USD_FEE_CURRENCIES = ("USDT", "USD", "USDC")


def open_exposure(engine: Engine) -> tuple[dict[str, Decimal], Decimal]:
    """Capital tied up by open hedges, per coin and in total: perp notional x (1 + 1 / leverage)."""
    query = select(Position.spot_symbol, Position.perp_amount, Position.perp_entry_price, Position.leverage).where(
        Position.status.in_(OPEN_STATUSES)
    )
    by_coin: dict[str, Decimal] = {}
    with engine.connect() as conn:
        for spot_symbol, amount, price, leverage in conn.execute(query):
            if price is None:
                continue
            capital = abs(amount) * price * (1 + Decimal(1) / Decimal(max(leverage, 1)))
            coin = spot_symbol.split("/", 1)[0]
            by_coin[coin] = by_coin.get(coin, ZERO) + capital
    return by_coin, sum(by_coin.values(), ZERO)


def activity(engine: Engine, start: datetime, end: datetime) -> list[DayActivity]:
    """P&L components per UTC day in ``[start, end)``, one entry per day with any activity."""
    days: dict[date, DayActivity] = {}

    def day_of(when: datetime) -> DayActivity:
        key = when.date()
        return days.setdefault(key, DayActivity(key))

    with engine.connect() as conn:
        payments = select(
            FundingPayment.venue, FundingPayment.symbol, FundingPayment.funding_time, FundingPayment.amount
        )
        payments = payments.where(FundingPayment.funding_time >= start, FundingPayment.funding_time < end)
        for venue, symbol, when, amount in conn.execute(payments):
            day_of(when).of(f"{venue}:{symbol}").funding += amount
        fills = select(Fill.venue, Fill.symbol, Fill.time, Fill.fee, Fill.fee_currency, Fill.price)
        fills = fills.where(Fill.time >= start, Fill.time < end)
        for venue, symbol, when, fee, currency, price in conn.execute(fills):
            day = day_of(when)
            row = day.of(f"{venue}:{_perp_key(symbol)}")
            row.fills += 1
            coin = symbol.split("/", 1)[0]
            if currency is None or currency.upper() in USD_FEE_CURRENCIES:
                row.fees += fee
            elif currency.upper() == coin.upper():
                row.fees += fee * price
            else:
                day.unconverted_fees[currency] = day.unconverted_fees.get(currency, ZERO) + fee
        positions = select(
            Position.venue, Position.symbol, Position.opened_at, Position.closed_at, Position.realized_pnl,
            Position.funding_received, Position.fees_paid,
        ).where(or_(and_(Position.opened_at >= start, Position.opened_at < end),
                    and_(Position.closed_at >= start, Position.closed_at < end)))  # fmt: skip
        for venue, symbol, opened, closed, realized, funding, fees in conn.execute(positions):
            key = f"{venue}:{symbol}"
            if start <= opened < end:
                day_of(opened).of(key).opened += 1
            if closed is not None and start <= closed < end:
                day = day_of(closed)
                day.of(key).closed += 1
                if realized is None:
                    day.closed_without_pnl += 1
                else:
                    day.of(key).price_pnl += realized - funding + fees
    return [days[d] for d in sorted(days)]


def _perp_key(symbol: str) -> str:
    """Fills of both legs count under the hedge's perpetual: ``BTC/USDT`` -> ``BTC/USDT:USDT``."""
    if ":" in symbol or "/" not in symbol:
        return symbol
    quote = symbol.split("/", 1)[1]
    return f"{symbol}:{quote}"
