"""The alerts table as the notifier reads it back: alerts held back by the rate limit (to merge into a digest) and
the newest alerts of a kind (what ``arbx status`` shows as reasons)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert


@dataclass(frozen=True)
class AlertRow:
    id: int
    time: datetime
    severity: str
    kind: str
    venue: str | None
    symbol: str | None
    message: str
    details: dict[str, Any] | None
    notified: bool


def _row(alert: Alert) -> AlertRow:
    return AlertRow(
        int(alert.id), alert.time, alert.severity, alert.kind, alert.venue, alert.symbol, alert.message,
        alert.details, bool(alert.notified),
    )  # fmt: skip


def held_back_alerts(engine: Engine, since: datetime, before: datetime) -> list[AlertRow]:
    """Alerts recorded in [since, before) that no channel has delivered yet, oldest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Alert).where(Alert.notified.is_(False), Alert.time >= since, Alert.time < before).order_by(Alert.id)
        ).scalars()
        return [_row(alert) for alert in rows]


def mark_notified(engine: Engine, alert_ids: Sequence[int]) -> None:
    if not alert_ids:
        return
    with transaction(engine) as session:
        session.execute(update(Alert).where(Alert.id.in_(list(alert_ids))).values(notified=True))


def latest_alerts(engine: Engine, kinds: Sequence[str], limit: int = 5) -> list[AlertRow]:
    """The newest alerts of these kinds, newest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Alert).where(Alert.kind.in_(list(kinds))).order_by(Alert.id.desc()).limit(limit)
        ).scalars()
        return [_row(alert) for alert in rows]
