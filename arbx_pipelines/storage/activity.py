"""What happened since a moment, for the console of ``arbx run`` (alerts, hedges opened or closed) and the
health check (the last funding snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, func, or_, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert, FundingSnapshotRow, Position


@dataclass(frozen=True)
class AlertLine:
    id: int
    time: datetime
    severity: str
    kind: str
    venue: str | None
    symbol: str | None
    message: str


@dataclass(frozen=True)
class HedgeLine:
    position_id: int
    venue: str
    symbol: str
    direction: str
    status: str
    perp_amount: Decimal
    perp_entry_price: Decimal | None
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    realized_pnl: Decimal | None


def last_alert_id(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.execute(select(func.coalesce(func.max(Alert.id), 0))).scalar_one())


def alerts_after(engine: Engine, alert_id: int, limit: int = 100) -> list[AlertLine]:
    """Alerts recorded after ``alert_id``, oldest first."""
    query = select(Alert).where(Alert.id > alert_id).order_by(Alert.id).limit(limit)
    with transaction(engine) as session:
        return [
            AlertLine(a.id, a.time, a.severity, a.kind, a.venue, a.symbol, a.message)
            for a in session.execute(query).scalars()
        ]


def hedges_changed_since(engine: Engine, since: datetime) -> list[HedgeLine]:
    """Positions opened or closed at or after ``since`` (settled ones: not still opening), oldest first."""
    query = (
        select(Position)
        .where(or_(Position.opened_at >= since, Position.closed_at >= since), Position.status != "opening")
        .order_by(Position.id)
    )
    with transaction(engine) as session:
        return [
            HedgeLine(p.id, p.venue, p.symbol, p.direction, p.status, p.perp_amount, p.perp_entry_price,
                      p.opened_at, p.closed_at, p.close_reason, p.realized_pnl)
            for p in session.execute(query).scalars()
        ]  # fmt: skip


def latest_snapshot_time(engine: Engine) -> datetime | None:
    """When the last funding snapshot row was taken (None: never)."""
    with transaction(engine) as session:
        return session.execute(select(func.max(FundingSnapshotRow.time))).scalar_one_or_none()
