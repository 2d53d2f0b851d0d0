"""Orders, fills and ledger entries of the simulated accounts (venue-neutral; amounts in base currency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from arbx_pipelines.venues.sim.universe import Instrument

ZERO = Decimal(0)


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "POST_ONLY"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class LedgerKind(StrEnum):
    """What moved money in an account; venue modules map these to their income types."""

    FUNDING = "funding"
    COMMISSION = "commission"
    REALIZED_PNL = "realized_pnl"
    TRANSFER = "transfer"
    LIQUIDATION = "liquidation"


@dataclass(frozen=True)
class OrderRequest:
    """What a venue module parsed out of a create-order call."""

    symbol: str
    side: str  # "buy" | "sell"
    type: OrderType
    amount: Decimal | None
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    client_order_id: str | None = None
    #: spot market buys may be sized in quote currency instead of ``amount``
    quote_amount: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fill:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time_ms: int
    realized_pnl: Decimal = ZERO

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty


@dataclass
class Order:
    order_id: int
    client_order_id: str
    instrument: Instrument
    side: str
    type: OrderType
    time_in_force: TimeInForce
    amount: Decimal
    price: Decimal | None
    reduce_only: bool
    created_ms: int
    updated_ms: int
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = ZERO
    cost: Decimal = ZERO
    fills: list[Fill] = field(default_factory=list)
    quote_amount: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def average(self) -> Decimal | None:
        return self.cost / self.filled if self.filled > 0 else None

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"

    @property
    def fee_total(self) -> Decimal:
        return sum((fill.fee for fill in self.fills), ZERO)

    @property
    def last_fill_ms(self) -> int | None:
        return self.fills[-1].time_ms if self.fills else None


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: int
    time_ms: int
    kind: LedgerKind
    asset: str
    amount: Decimal
    symbol: str = ""
    info: str = ""
    trade_id: int | None = None
