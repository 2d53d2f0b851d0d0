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
from arbx_pipelines.storage.alerts import record_alert, record_alert_notified
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
        alert_id = record_alert(
            self._engine, time=datetime.now(UTC), severity=severity, kind=kind, message=message, venue=venue,
            symbol=symbol, details=details,
        )  # fmt: skip
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
            record_alert_notified(self._engine, alert_id)
