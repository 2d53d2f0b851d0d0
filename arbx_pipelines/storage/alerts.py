"""The ``alerts`` table: every alert is recorded here before any channel is tried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    time: datetime
    severity: str
    kind: str
    message: str
    venue: str | None
    symbol: str | None
    notified: bool
    details: dict[str, Any] | None


def record_alert(
    engine: Engine,
    *,
    time: datetime,
    severity: str,
    kind: str,
    message: str,
    venue: str | None = None,
    symbol: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Store a new, not yet notified alert; returns its id."""
    with transaction(engine) as session:
        alert = Alert(
            time=time, severity=severity, kind=kind, venue=venue, symbol=symbol,
            message=message, details=details, acknowledged=False, notified=False,
        )  # fmt: skip
        session.add(alert)
        session.flush()
        return int(alert.id)


def alerts_in_order(engine: Engine) -> list[AlertRecord]:
    """Every stored alert, oldest first."""
    with transaction(engine) as session:
        rows = session.execute(select(Alert).order_by(Alert.id)).scalars().all()
        return [
            AlertRecord(
                int(a.id), a.time, a.severity, a.kind, a.message, a.venue, a.symbol, bool(a.notified), a.details
            )
            for a in rows
        ]
