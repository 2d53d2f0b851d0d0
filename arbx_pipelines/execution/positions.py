"""The position repository: a hedge's row, kept equal to what its recorded fills say.

Amounts, entry prices and fees are never added up incrementally: :func:`refresh_from_fills` recomputes them from
every fill of every execution of the position (:mod:`arbx_pipelines.execution.pnl`), so a replayed or repaired
step cannot count anything twice. Statuses: opening -> open -> closing -> closed, or broken (needs a human).
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
from arbx_pipelines.execution.pnl import FillView, HedgeBook, hedge_book
from arbx_pipelines.execution.records import utcnow
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Fill, FundingPayment, Order, Position

ACTIVE_STATUSES = ("opening", "open", "closing", "broken")


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


def _record(row: Position) -> PositionRecord:
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
        return _record(row)


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
        return None if row is None else _record(row)


def positions_with_status(engine: Engine, statuses: tuple[str, ...], venue: str | None = None) -> list[PositionRecord]:
    with transaction(engine) as session:
        query = select(Position).where(Position.status.in_(statuses))
        if venue is not None:
            query = query.where(Position.venue == venue)
        return [_record(row) for row in session.execute(query.order_by(Position.id)).scalars()]


def fills_of_position(engine: Engine, position_id: int) -> list[FillView]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Fill, Order.leg, Order.symbol)
            .join(Order, Fill.order_id == Order.id)
            .join(Execution, Order.execution_id == Execution.id)
            .where(Execution.position_id == position_id)
            .order_by(Fill.id)
        ).all()
        return [
            FillView(
                leg="perp" if ":" in symbol else "spot",
                side=Side(fill.side),
                amount=fill.amount,
                price=fill.price,
                fee=fill.fee or ZERO,
                fee_currency=fill.fee_currency,
                base=base_of(symbol),
            )
            for fill, _leg, symbol in rows
        ]


def book_of(engine: Engine, position: PositionRecord) -> HedgeBook:
    return hedge_book(position.direction, fills_of_position(engine, position.id))


def refresh_from_fills(engine: Engine, position_id: int) -> PositionRecord:
    """Recompute the legs, entry prices, fees and funding received from the recorded fills and payments."""
    position = get_position(engine, position_id)
    book = book_of(engine, position)
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        assert row is not None
        row.spot_amount = book.spot_amount
        row.perp_amount = book.perp_amount
        row.spot_entry_price = book.spot_entry_price
        row.perp_entry_price = book.perp_entry_price
        row.fees_paid = book.fees
        row.funding_received = _funding_sum(session, position_id)
        row.updated_at = utcnow()
        return _record(row)


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
        return _record(row)


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
