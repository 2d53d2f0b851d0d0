"""SQLAlchemy 2 models of every application table (DESIGN, "Storage").

Money columns are :class:`Money` (exact Decimal on both backends); times are :class:`UTCDateTime`.
Natural keys carry unique constraints so that re-running ingestion or an execution step adds nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from arbx_pipelines.storage.types import Money, UTCDateTime

IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Market(Base):
    __tablename__ = "markets"
    __table_args__ = (UniqueConstraint("venue", "symbol", name="uq_markets_venue_symbol"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    market_type: Mapped[str] = mapped_column(String(8))  # spot | swap
    base: Mapped[str] = mapped_column(String(32))
    quote: Mapped[str] = mapped_column(String(32))
    venue_symbol: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    contract_size: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    amount_step: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    price_step: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    min_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    min_notional: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    taker_fee: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    maker_fee: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    funding_interval_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FundingRateRow(Base):
    """Settled funding rates. The natural key is the primary key: no surrogate id, because a time series written in
    bulk pays for every extra index (COPY of a million rows ran 1.4-1.9x faster without one, see migration 0003)."""

    __tablename__ = "funding_rates"
    __table_args__ = (Index("ix_funding_rates_time", "funding_time"),)

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    funding_time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Money)
    interval_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mark_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    source: Mapped[str] = mapped_column(String(32), default="venue")


class FundingSnapshotRow(Base):
    """The current (predicted) funding of a perpetual as observed at ``time``; settled rates go to funding_rates."""

    __tablename__ = "funding_snapshots"
    __table_args__ = (
        UniqueConstraint("venue", "symbol", "time", name="uq_funding_snapshots_venue_symbol_time"),
        Index("ix_funding_snapshots_time", "time"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    rate: Mapped[Decimal] = mapped_column(Money)
    interval_hours: Mapped[int] = mapped_column(Integer)
    annualized: Mapped[Decimal] = mapped_column(Money)
    next_funding_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mark_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    index_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class PriceRow(Base):
    """Historical closes (spot and perp) for backtests and analytics; natural primary key like funding_rates."""

    __tablename__ = "prices"

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    close: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(32), default="import")


class QuoteRow(Base):
    __tablename__ = "quotes"
    __table_args__ = (Index("ix_quotes_venue_symbol_time", "venue", "symbol", "time"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    bid: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    ask: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    bid_size: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    ask_size: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    bid_depth_usdt: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    ask_depth_usdt: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (UniqueConstraint("signal_key", name="uq_opportunities_signal_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    signal_key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))  # funding | spread
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rate: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    annualized: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    score: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    expected_profit: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (UniqueConstraint("execution_key", name="uq_executions_execution_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    execution_key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(24))  # open_funding | close | rebalance | spot_arb ...
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | sending | done | failed | repaired
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), nullable=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    planned: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        Index("ix_orders_execution", "execution_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64))
    execution_id: Mapped[int | None] = mapped_column(ForeignKey("executions.id"), nullable=True)
    leg: Mapped[str] = mapped_column(String(16))  # perp | spot | unwind ...
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # intent | open | closed | canceled | rejected | unknown
    venue_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filled: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    average_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    fee: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    fee_currency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the order went out (the send the venue answered) and when its first answer arrived (latency and
    #: pending-order figures)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Fill(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("venue", "trade_id", name="uq_fills_venue_trade"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    venue: Mapped[str] = mapped_column(String(16))
    trade_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    amount: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    fee_currency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_status", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))  # the perpetual
    spot_symbol: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))  # short_perp | long_perp
    status: Mapped[str] = mapped_column(String(16))  # opening | open | closing | closed | broken
    perp_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    spot_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    perp_entry_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    spot_entry_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    leverage: Mapped[int] = mapped_column(Integer, default=1)
    liquidation_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    fees_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    funding_received: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    realized_pnl: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FundingPayment(Base):
    __tablename__ = "funding_payments"
    __table_args__ = (
        UniqueConstraint("venue", "symbol", "funding_time", "position_id", name="uq_funding_payments_settlement"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), nullable=True)
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(64))
    funding_time: Mapped[datetime] = mapped_column(UTCDateTime)
    rate: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # positive: received
    currency: Mapped[str] = mapped_column(String(16), default="USDT")
    venue_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AccountTransaction(Base):
    """The ledger: every change of a balance (trade, fee, funding, transfer) as one signed row."""

    __tablename__ = "account_transactions"
    __table_args__ = (UniqueConstraint("ref", name="uq_account_transactions_ref"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(160))
    venue: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(16))  # spot | swap | funding
    currency: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(24))  # trade | fee | funding | transfer | adjustment
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), nullable=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    kind: Mapped[str] = mapped_column(String(48))
    venue: Mapped[str | None] = mapped_column(String(16), nullable=True)
    symbol: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)


class SystemLog(Base):
    __tablename__ = "system_logs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(8))
    logger: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class StateEntry(Base):
    """Key/value state (locks, idempotency keys, quote cache, flags) when Redis is not configured."""

    __tablename__ = "state_entries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float | None] = mapped_column(nullable=True)  # epoch seconds; None: no expiry


class SpotInventory(Base):
    """Free spot coins per venue as last seen in the wallets (minus what open hedges hold): whether a negative
    funding rate can be traded from inventory, readable by the sensor without asking the venue."""

    __tablename__ = "spot_inventory"

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    coin: Mapped[str] = mapped_column(String(32), primary_key=True)
    free: Mapped[Decimal] = mapped_column(Money)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
