"""What venues tell us, as typed Decimal values: markets, funding, books, balances, positions and orders.

The exchange adapter converts ccxt's answers into these at the boundary, so nothing above it sees a float.
Amounts are in the base coin (OKX swap contracts are converted with the market's contract size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.sizing import MarketRules


@dataclass(frozen=True, slots=True)
class MarketInfo:
    venue: Venue
    symbol: str  # ccxt unified, e.g. BTC/USDT:USDT
    venue_symbol: str  # the venue's id, e.g. BTCUSDT or BTC-USDT-SWAP
    market_type: MarketType
    base: str
    quote: str
    rules: MarketRules
    taker_fee: Decimal | None = None
    maker_fee: Decimal | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class FundingInfo:
    """The current (predicted) funding of a perpetual and when it settles."""

    venue: Venue
    symbol: str
    rate: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    mark_price: Decimal | None
    index_price: Decimal | None
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderBook:
    venue: Venue
    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]  # (price, base amount), best first
    asks: tuple[tuple[Decimal, Decimal], ...]
    time: datetime | None = None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class PositionInfo:
    venue: Venue
    symbol: str
    side: str  # long | short
    amount: Decimal  # base coin, positive
    entry_price: Decimal | None
    mark_price: Decimal | None
    liquidation_price: Decimal | None
    leverage: Decimal | None
    margin_mode: str | None
    unrealized_pnl: Decimal | None = None


#: the status of a create answer that carries the order's ids only (OKX, Bitget): the venue has the order, its
#: outcome is read next (:meth:`~arbx_pipelines.venues.client.VenueClient.place_order`)
ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the venue reports it. ``status``: open, closed (fully filled or IOC done), canceled, rejected."""

    venue: Venue
    symbol: str
    client_order_id: str | None
    order_id: str | None
    side: Side
    order_type: str
    amount: Decimal  # base coin
    filled: Decimal  # base coin
    average_price: Decimal | None
    status: str
    fee: Decimal = ZERO
    fee_currency: str | None = None
    time: datetime | None = None
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def is_final(self) -> bool:
        return self.status in ("closed", "canceled", "rejected", "expired")


@dataclass(frozen=True, slots=True)
class TradeFill:
    """One fill (trade) of one of our orders. Fees live here, not on the order: venues such as Binance report no
    fee when an order is queried, only on its trades. ``fee_currency`` is the base coin for spot buys on Binance."""

    venue: Venue
    symbol: str
    trade_id: str
    order_id: str | None
    side: Side
    amount: Decimal  # base coin
    price: Decimal
    fee: Decimal
    fee_currency: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class FundingIncome:
    """One funding payment the account received (positive) or paid (negative)."""

    venue: Venue
    symbol: str
    time: datetime
    amount: Decimal
    currency: str
    venue_ref: str | None = None
