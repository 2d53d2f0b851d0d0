"""Alerts: every alert is first recorded in the ``alerts`` table, then sent to the channels within a rate limit.

Recording comes first so an alert is never lost when a channel is down; ``notified`` says whether it went out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.channels import Channel, NotifyError
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert
from arbx_pipelines.storage.state import StateStore

log = get_logger("arbx.notify")
SEVERITIES = ("info", "warning", "critical")


class AlertSink:
    def __init__(
        self,
        engine: Engine,
        channels: Sequence[Channel] = (),
        state: StateStore | None = None,
        max_per_minute: int = 10,
    ) -> None:
        self._engine = engine
        self._channels = list(channels)
        self._state = state
        self._max_per_minute = max_per_minute

    def raise_alert(
        self,
        kind: str,
        message: str,
        *,
        severity: str = "warning",
        venue: str | None = None,
        symbol: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Record the alert, then try to notify; returns the alert id."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r}: allowed: {', '.join(SEVERITIES)}")
        with transaction(self._engine) as session:
            alert = Alert(
                time=datetime.now(UTC), severity=severity, kind=kind, venue=venue, symbol=symbol,
                message=message, details=details, acknowledged=False, notified=False,
            )  # fmt: skip
            session.add(alert)
            session.flush()
            alert_id = int(alert.id)
        log.log(40 if severity == "critical" else 30, message, extra={"alert": kind, "venue": venue, "symbol": symbol})
        if self._channels and self._within_rate_limit(severity):
            self._deliver(alert_id, f"[arbx {severity}] {kind}", message)
        return alert_id

    def _within_rate_limit(self, severity: str) -> bool:
        if self._state is None or severity == "critical":  # critical alerts always go out
            return True
        return self._state.hit("notify", window_seconds=60) <= self._max_per_minute

    def _deliver(self, alert_id: int, subject: str, text: str) -> None:
        delivered = False
        for channel in self._channels:
            try:
                channel.send(subject, text)
                delivered = True
            except NotifyError as exc:
                log.warning("notification failed", extra={"channel": channel.name, "error": str(exc)})
        if delivered:
            with transaction(self._engine) as session:
                alert = session.get(Alert, alert_id)
                if alert is not None:
                    alert.notified = True
