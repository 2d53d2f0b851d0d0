"""Read-only views for the operator (``arbx status | positions | trades``, Telegram): plain rows, no decisions.

Every query is a short read transaction, so the views work while ``arbx run`` writes (SQLite in WAL mode, PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, FundingSnapshotRow, Order, Position
from arbx_pipelines.storage.positions import PositionRecord, position_record

#: positions still holding (or possibly holding) exposure
ACTIVE_STATUSES = ("opening", "open", "closing", "broken")


@dataclass(frozen=True)
class OrderRow:
    client_order_id: str
    leg: str
    side: str
    amount: Decimal
    filled: Decimal
    average_price: Decimal | None
    fee: Decimal | None
    fee_currency: str | None
    status: str


@dataclass(frozen=True)
class ExecutionRow:
    id: int
    key: str
    kind: str
    venue: str
    symbol: str
    status: str
    position_id: int | None
    error: str | None
    created_at: datetime
    orders: tuple[OrderRow, ...]
    planned: dict[str, Any] | None = None


def positions_for_view(engine: Engine, *, include_closed: bool = False) -> list[PositionRecord]:
    """Active positions (every position with ``include_closed``), oldest first."""
    query = select(Position).order_by(Position.id)
    if not include_closed:
        query = query.where(Position.status.in_(ACTIVE_STATUSES))
    with transaction(engine) as session:
        return [position_record(row) for row in session.execute(query).scalars()]


def position_for_view(engine: Engine, position_id: int) -> PositionRecord | None:
    with transaction(engine) as session:
        row = session.get(Position, position_id)
        return None if row is None else position_record(row)


def positions_after(engine: Engine, last_id: int) -> list[PositionRecord]:
    """Positions with an id above ``last_id``, by id (the cursor of the lifecycle notifications)."""
    with transaction(engine) as session:
        rows = session.execute(select(Position).where(Position.id > last_id).order_by(Position.id)).scalars()
        return [position_record(row) for row in rows]


def positions_closed_since(engine: Engine, since: datetime) -> list[PositionRecord]:
    """Positions closed at or after ``since``, in closing order."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Position)
            .where(Position.status == "closed", Position.closed_at >= since)
            .order_by(Position.closed_at, Position.id)
        ).scalars()
        return [position_record(row) for row in rows]


def latest_mark_prices(engine: Engine) -> dict[tuple[str, str], Decimal]:
    """The last mark price seen per (venue, perpetual) in the funding snapshots."""
    newest = (
        select(FundingSnapshotRow.venue, FundingSnapshotRow.symbol, func.max(FundingSnapshotRow.time).label("t"))
        .where(FundingSnapshotRow.mark_price.is_not(None))
        .group_by(FundingSnapshotRow.venue, FundingSnapshotRow.symbol)
        .subquery()
    )
    query = select(FundingSnapshotRow.venue, FundingSnapshotRow.symbol, FundingSnapshotRow.mark_price).join(
        newest,
        (FundingSnapshotRow.venue == newest.c.venue)
        & (FundingSnapshotRow.symbol == newest.c.symbol)
        & (FundingSnapshotRow.time == newest.c.t),
    )
    with transaction(engine) as session:
        return {(venue, symbol): price for venue, symbol, price in session.execute(query) if price is not None}


def latest_snapshot_time(engine: Engine) -> datetime | None:
    """When the newest funding snapshot was taken (None before the first)."""
    with transaction(engine) as session:
        value = session.execute(select(func.max(FundingSnapshotRow.time))).scalar()
    return value if isinstance(value, datetime) else None


def recent_executions(engine: Engine, limit: int, *, kind: str | None = None) -> list[ExecutionRow]:
    """The newest executions (newest first) with their orders."""
    query = select(Execution).order_by(Execution.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Execution.kind == kind)
    with transaction(engine) as session:
        executions = list(session.execute(query).scalars())
        ids = [e.id for e in executions]
        orders: dict[int, list[OrderRow]] = {i: [] for i in ids}
        if ids:
            for order in session.execute(select(Order).where(Order.execution_id.in_(ids)).order_by(Order.id)).scalars():
                orders[int(order.execution_id or 0)].append(
                    OrderRow(
                        order.client_order_id,
                        order.leg,
                        order.side,
                        order.amount,
                        order.filled or Decimal(0),
                        order.average_price,
                        order.fee,
                        order.fee_currency,
                        order.status,
                    )
                )
        return [
            ExecutionRow(
                e.id,
                e.execution_key,
                e.kind,
                e.venue,
                e.symbol,
                e.status,
                e.position_id,
                e.error,
                e.created_at,
                tuple(orders[e.id]),
                e.planned,
            )
            for e in executions
        ]


def opening_plan(engine: Engine, position_id: int) -> tuple[str, dict[str, Any]] | None:
    """(status, planned) of the execution that opened the position, or None."""
    with transaction(engine) as session:
        row = session.execute(
            select(Execution.status, Execution.planned)
            .where(Execution.position_id == position_id, Execution.kind == "open_funding")
            .order_by(Execution.id)
        ).first()
    return None if row is None else (str(row.status), dict(row.planned or {}))


def max_position_id(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.execute(select(func.max(Position.id))).scalar() or 0)


@dataclass(frozen=True)
class SnapshotPoint:
    time: datetime
    annualized: Decimal
    mark_price: Decimal | None


def recent_snapshots(engine: Engine, since: datetime) -> dict[tuple[str, str], list[SnapshotPoint]]:
    """Funding snapshots taken since ``since`` per (venue, perpetual), newest first."""
    grouped: dict[tuple[str, str], list[SnapshotPoint]] = {}
    with transaction(engine) as session:
        rows = session.execute(
            select(
                FundingSnapshotRow.venue,
                FundingSnapshotRow.symbol,
                FundingSnapshotRow.time,
                FundingSnapshotRow.annualized,
                FundingSnapshotRow.mark_price,
            )
            .where(FundingSnapshotRow.time >= since)
            .order_by(FundingSnapshotRow.time.desc())
        )
        for venue, symbol, time, annualized, mark_price in rows:
            grouped.setdefault((venue, symbol), []).append(SnapshotPoint(time, annualized, mark_price))
    return grouped
