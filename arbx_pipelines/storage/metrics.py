"""Read-only figures for the Prometheus endpoint: counts and sums over the records the execution layer books.

Every function is one short read transaction (safe while ``arbx run`` writes); decisions and labels live in
:mod:`arbx_pipelines.ops_deploy.metrics`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, func, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Execution, FundingPayment, Opportunity, Order, Position


@dataclass(frozen=True)
class LatencyTotals:
    """Send-to-acknowledgement time of the orders of one venue that recorded both times."""

    count: int
    sum_seconds: float
    max_seconds: float


def opportunity_counts(engine: Engine) -> dict[str, int]:
    """Opportunities recorded, by kind (funding | spread)."""
    query = select(Opportunity.kind, func.count()).group_by(Opportunity.kind)
    with transaction(engine) as session:
        return {str(kind): int(n) for kind, n in session.execute(query)}


def execution_counts(engine: Engine) -> dict[tuple[str, str], int]:
    """Executions by (kind, status)."""
    query = select(Execution.kind, Execution.status, func.count()).group_by(Execution.kind, Execution.status)
    with transaction(engine) as session:
        return {(str(kind), str(status)): int(n) for kind, status, n in session.execute(query)}


def order_latency_by_venue(engine: Engine) -> dict[str, LatencyTotals]:
    """Totals per venue (read as rows: the time difference is spelled differently on SQLite and PostgreSQL)."""
    query = select(Order.venue, Order.sent_at, Order.acknowledged_at).where(
        Order.sent_at.is_not(None), Order.acknowledged_at.is_not(None)
    )
    seconds: dict[str, list[float]] = defaultdict(list)
    with transaction(engine) as session:
        for venue, sent, acknowledged in session.execute(query):
            if sent is not None and acknowledged is not None:  # the query's filter, repeated for the type checker
                seconds[str(venue)].append(max((acknowledged - sent).total_seconds(), 0.0))
    return {venue: LatencyTotals(len(values), sum(values), max(values)) for venue, values in seconds.items()}


def position_amounts(engine: Engine, statuses: tuple[str, ...]) -> list[tuple[int, str, str, str, Decimal, Decimal]]:
    """(id, venue, symbol, status, perp amount, spot amount) of the positions in ``statuses``."""
    query = (
        select(
            Position.id, Position.venue, Position.symbol, Position.status, Position.perp_amount, Position.spot_amount
        )
        .where(Position.status.in_(statuses))
        .order_by(Position.id)
    )
    with transaction(engine) as session:
        return [
            (int(pid), str(venue), str(symbol), str(status), perp or Decimal(0), spot or Decimal(0))
            for pid, venue, symbol, status, perp, spot in session.execute(query)
        ]


def funding_received_by_venue(engine: Engine) -> dict[str, Decimal]:
    """Funding booked per venue (positive: received), all time."""
    query = select(FundingPayment.venue, func.sum(FundingPayment.amount)).group_by(FundingPayment.venue)
    with transaction(engine) as session:
        return {str(venue): Decimal(total or 0) for venue, total in session.execute(query)}


def realized_pnl_by_venue(engine: Engine) -> dict[str, Decimal]:
    """Realized P&L of the closed positions per venue, all time."""
    query = (
        select(Position.venue, func.sum(Position.realized_pnl))
        .where(Position.status == "closed", Position.realized_pnl.is_not(None))
        .group_by(Position.venue)
    )
    with transaction(engine) as session:
        return {str(venue): Decimal(total or 0) for venue, total in session.execute(query)}
