"""The position repository: a hedge's row, its fills and funding payments.

Amounts, entry prices and fees are never added up incrementally: :func:`store_legs` writes what
:func:`arbx_pipelines.execution.positions.refresh_from_fills` recomputed from every fill of the position, so a
replayed or repaired step cannot count anything twice. Statuses: opening -> open -> closing -> closed, or broken
(needs a human, or reconcile once the venue answers), or missing (recorded open, not held on the venue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arbx_pipelines.core.hedge import FundingDirection, base_of
from arbx_pipelines.core.models import Side, Venue
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Fill, FundingPayment, Order, Position
from arbx_pipelines.storage.orders import utcnow

ACTIVE_STATUSES = ("opening", "open", "closing", "broken")
#: a position recorded open that the venue does not hold (liquidated, closed by hand, or gone)
MISSING = "missing"


@dataclass(frozen=True)
class PositionRecord:
    id: int
    venue: Venue
    symbol: str
    spot_symbol: str
    direction: FundingDirection
    status: str
    perp_amount: Decimal
    spot_amount: Decimal
    perp_entry_price: Decimal | None
    spot_entry_price: Decimal | None
    leverage: int
    liquidation_price: Decimal | None
    fees_paid: Decimal
    funding_received: Decimal
    realized_pnl: Decimal | None
    close_reason: str | None
    opened_at: datetime
    closed_at: datetime | None

    @property
    def entry_notional(self) -> Decimal:
        return self.spot_amount * (self.spot_entry_price or ZERO)

    @property
    def capital(self) -> Decimal:
        """USDT the hedge commits: the spot leg plus the perp margin."""
        return self.entry_notional * (1 + Decimal(1) / Decimal(max(self.leverage, 1)))


def position_record(row: Position) -> PositionRecord:
    """The typed record of one positions row (also what the operator views show)."""
    return PositionRecord(
        id=row.id,
        venue=Venue(row.venue),
        symbol=row.symbol,
        spot_symbol=row.spot_symbol,
        direction=FundingDirection(row.direction),
        status=row.status,
        perp_amount=row.perp_amount or ZERO,
        spot_amount=row.spot_amount or ZERO,
        perp_entry_price=row.perp_entry_price,
        spot_entry_price=row.spot_entry_price,
        leverage=row.leverage,
        liquidation_price=row.liquidation_price,
        fees_paid=row.fees_paid or ZERO,
        funding_received=row.funding_received or ZERO,
        realized_pnl=row.realized_pnl,
        close_reason=row.close_reason,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
    )


def get_position(engine: Engine, position_id: int) -> PositionRecord:
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        if row is None:
            raise LookupError(f"no position {position_id}")
        return position_record(row)


def active_position(engine: Engine, venue: str, symbol: str) -> PositionRecord | None:
    with transaction(engine) as session:
        row = (
            session.execute(
                select(Position)
                .where(Position.venue == venue, Position.symbol == symbol, Position.status.in_(ACTIVE_STATUSES))
                .order_by(Position.id.desc())
            )
            .scalars()
            .first()
        )
        return None if row is None else position_record(row)


def positions_with_status(engine: Engine, statuses: tuple[str, ...], venue: str | None = None) -> list[PositionRecord]:
    with transaction(engine) as session:
        query = select(Position).where(Position.status.in_(statuses))
        if venue is not None:
            query = query.where(Position.venue == venue)
        return [position_record(row) for row in session.execute(query.order_by(Position.id)).scalars()]


@dataclass(frozen=True)
class StoredFill:
    symbol: str
    side: Side
    amount: Decimal  # base coin
    price: Decimal
    fee: Decimal
    fee_currency: str | None

    @property
    def leg(self) -> str:
        return "perp" if ":" in self.symbol else "spot"

    @property
    def base(self) -> str:
        return base_of(self.symbol)


def fills_of_position(engine: Engine, position_id: int) -> list[StoredFill]:
    """Every fill of every execution of the position, in the order stored."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Fill)
            .join(Order, Fill.order_id == Order.id)
            .join(Execution, Order.execution_id == Execution.id)
            .where(Execution.position_id == position_id)
            .order_by(Fill.id)
        ).scalars()
        return [
            StoredFill(row.symbol, Side(row.side), row.amount, row.price, row.fee or ZERO, row.fee_currency)
            for row in rows
        ]


@dataclass(frozen=True)
class Legs:
    """A position's legs as its fills say (computed by the execution layer, stored here)."""

    spot_amount: Decimal
    perp_amount: Decimal
    spot_entry_price: Decimal | None
    perp_entry_price: Decimal | None
    fees: Decimal


def store_legs(engine: Engine, position_id: int, legs: Legs) -> PositionRecord:
    """Write the legs recomputed from the fills, with the funding received so far, in one transaction."""
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        if row is None:
            raise LookupError(f"no position {position_id}")
        row.spot_amount = legs.spot_amount
        row.perp_amount = legs.perp_amount
        row.spot_entry_price = legs.spot_entry_price
        row.perp_entry_price = legs.perp_entry_price
        row.fees_paid = legs.fees
        row.funding_received = _funding_sum(session, position_id)
        row.updated_at = utcnow()
        return position_record(row)


def record_funding_payment(
    engine: Engine,
    *,
    position_id: int,
    venue: str,
    symbol: str,
    time: datetime,
    rate: Decimal | None,
    amount: Decimal,
    currency: str,
    venue_ref: str | None,
) -> bool:
    """One settlement's funding for a position, once (unique per venue, symbol, time and position); returns whether
    it was new."""
    with transaction(engine) as session:
        exists = session.execute(
            select(FundingPayment.id).where(
                FundingPayment.venue == venue,
                FundingPayment.symbol == symbol,
                FundingPayment.funding_time == time,
                FundingPayment.position_id == position_id,
            )
        ).first()
        if exists is not None:
            return False
        session.add(
            FundingPayment(
                position_id=position_id,
                venue=venue,
                symbol=symbol,
                funding_time=time,
                rate=rate,
                amount=amount,
                currency=currency,
                venue_ref=venue_ref,
            )
        )
    return True


def _funding_sum(session: Session, position_id: int) -> Decimal:
    amounts = session.execute(select(FundingPayment.amount).where(FundingPayment.position_id == position_id))
    return sum((amount for (amount,) in amounts), ZERO)


def set_status(
    engine: Engine,
    position_id: int,
    status: str,
    *,
    close_reason: str | None = None,
    realized_pnl: Decimal | None = None,
    closed: bool = False,
) -> PositionRecord:
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        if row is None:
            raise LookupError(f"no position {position_id}")
        row.status = status
        if close_reason is not None:
            row.close_reason = close_reason[:64]
        if realized_pnl is not None:
            row.realized_pnl = realized_pnl
        if closed:
            row.closed_at = utcnow()
        row.updated_at = utcnow()
        return position_record(row)


def set_liquidation_price(engine: Engine, position_id: int, liquidation_price: Decimal | None) -> None:
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        if row is not None:
            row.liquidation_price = liquidation_price
            row.updated_at = utcnow()


def realized_between(engine: Engine, start: datetime, end: datetime) -> Decimal:
    """Realized P&L of positions closed in [start, end) (the risk layer's daily loss)."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Position.realized_pnl).where(
                Position.closed_at >= start, Position.closed_at < end, Position.realized_pnl.is_not(None)
            )
        )
        return sum((value or ZERO for (value,) in rows), ZERO)
