"""Read-only snapshot of one symbol's execution records (positions, executions, orders, fills) on one venue: what
the crash sweep compares with the venue, and compares again after a second reconcile to show it changed nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, Fill, Order, Position


@dataclass(frozen=True)
class AuditOrder:
    client_order_id: str
    leg: str  # spot | perp | ... | external (a change the venue showed that no order of ours made)
    symbol: str
    side: str
    amount: Decimal
    filled: Decimal
    status: str


@dataclass(frozen=True)
class AuditFill:
    trade_id: str
    client_order_id: str
    leg: str
    symbol: str
    side: str
    amount: Decimal


@dataclass(frozen=True)
class AuditPosition:
    id: int
    status: str
    direction: str
    spot_amount: Decimal
    perp_amount: Decimal


@dataclass(frozen=True)
class AuditExecution:
    key: str
    kind: str
    status: str


@dataclass(frozen=True)
class RecordSnapshot:
    positions: tuple[AuditPosition, ...]
    executions: tuple[AuditExecution, ...]
    orders: tuple[AuditOrder, ...]
    fills: tuple[AuditFill, ...]


def records_of(engine: Engine, venue: str, symbols: Sequence[str]) -> RecordSnapshot:
    """Every position (by its perpetual), execution, order and fill of ``symbols`` on ``venue``, in a stable order."""
    with transaction(engine) as session:
        positions = session.execute(
            select(Position).where(Position.venue == venue, Position.symbol.in_(symbols)).order_by(Position.id)
        ).scalars()
        position_rows = tuple(
            AuditPosition(p.id, p.status, p.direction, p.spot_amount, p.perp_amount) for p in positions
        )
        executions = session.execute(
            select(Execution).where(Execution.venue == venue, Execution.symbol.in_(symbols)).order_by(Execution.id)
        ).scalars()
        execution_rows = tuple(AuditExecution(e.execution_key, e.kind, e.status) for e in executions)
        orders = session.execute(
            select(Order).where(Order.venue == venue, Order.symbol.in_(symbols)).order_by(Order.id)
        ).scalars()
        order_rows = tuple(
            AuditOrder(o.client_order_id, o.leg, o.symbol, o.side, o.amount, o.filled, o.status) for o in orders
        )
        fills = session.execute(
            select(Fill, Order.client_order_id, Order.leg)
            .join(Order, Fill.order_id == Order.id)
            .where(Fill.venue == venue, Fill.symbol.in_(symbols))
            .order_by(Fill.id)
        ).all()
        fill_rows = tuple(AuditFill(f.trade_id, cid, leg, f.symbol, f.side, f.amount) for f, cid, leg in fills)
    return RecordSnapshot(position_rows, execution_rows, order_rows, fill_rows)
