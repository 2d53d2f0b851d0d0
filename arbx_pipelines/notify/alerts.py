"""Alerts: every alert is first recorded in the ``alerts`` table, then sent to the channels within a rate limit.

Recording comes first so an alert is never lost when a channel is down; ``notified`` says whether it went out.
Critical alerts bypass the rate limit; others over it are held back (recorded, not sent) and merged into one digest
per rate-limit window, sent by the first alert or :meth:`AlertSink.flush_digest` call after the window ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.channels import Channel, NotifyError
from arbx_pipelines.notify.messages import Note, body_of, digest, subject_of
from arbx_pipelines.storage.alert_log import held_back_alerts, mark_notified
from arbx_pipelines.storage.alerts import record_alert
from arbx_pipelines.storage.state import StateStore

log = get_logger("arbx.notify")
SEVERITIES = ("info", "warning", "critical")
LOG_LEVELS = {"info": 20, "warning": 30, "critical": 40}
WINDOW_SECONDS = 60
#: held-back alerts older than this are not sent any more (the alerts table still has them)
DIGEST_HORIZON = timedelta(days=1)


class AlertSink:
    def __init__(
        self,
        engine: Engine,
        channels: Sequence[Channel] = (),
        state: StateStore | None = None,
        max_per_minute: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._channels = list(channels)
        self._state = state
        self._max_per_minute = max_per_minute
        self._clock = clock

    @property
    def engine(self) -> Engine:
        return self._engine

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def raise_alert(
        self,
        kind: str,
        message: str,
        *,
        severity: str = "warning",
        venue: str | None = None,
        symbol: str | None = None,
        details: dict[str, Any] | None = None,
        bypass_limit: bool = False,
    ) -> int:
        """Record the alert, then try to notify; returns the alert id. ``bypass_limit``: a rare message that must
        go out now whatever its severity (start and stop)."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r}: allowed: {', '.join(SEVERITIES)}")
        now = self._now()
        alert_id = record_alert(
            self._engine, time=now, severity=severity, kind=kind, message=message, venue=venue, symbol=symbol,
            details=details,
        )  # fmt: skip
        log.log(LOG_LEVELS[severity], message, extra={"alert": kind, "venue": venue, "symbol": symbol})
        if not self._channels:
            return alert_id
        self.flush_digest()
        if bypass_limit or self._within_rate_limit(severity):
            note = Note(kind, message, now, venue, symbol)
            if self._deliver(subject_of(kind, venue, symbol), body_of(note)):
                mark_notified(self._engine, [alert_id])
        return alert_id

    def _within_rate_limit(self, severity: str) -> bool:
        if self._state is None or severity == "critical":  # critical alerts always go out
            return True
        return self._state.hit("notify", window_seconds=WINDOW_SECONDS) <= self._max_per_minute

    def flush_digest(self, *, current_window: bool = False) -> int:
        """Send the alerts held back in windows that have ended (and in the current one with ``current_window``, as a
        stopping process does) as one digest; returns how many it merged."""
        if not self._channels:
            return 0
        now = self._clock()
        window_start = datetime.fromtimestamp(now if current_window else now - now % WINDOW_SECONDS, UTC)
        held = held_back_alerts(self._engine, window_start - DIGEST_HORIZON, window_start)
        if not held:
            return 0
        first = held[0].time.timestamp()
        first_window = datetime.fromtimestamp(first - first % WINDOW_SECONDS, UTC)
        if self._state is not None and not self._state.claim_idempotency_key(
            f"notify:digest:{int(window_start.timestamp())}:{held[-1].id}", WINDOW_SECONDS * 2
        ):
            return 0  # another process is sending this digest
        notes = [Note(a.kind, a.message, a.time, a.venue, a.symbol) for a in held]
        subject, text = digest(notes, first_window, WINDOW_SECONDS)
        if self._deliver(subject, text):
            mark_notified(self._engine, [a.id for a in held])
            return len(held)
        return 0

    def _deliver(self, subject: str, text: str) -> bool:
        delivered = False
        for channel in self._channels:
            try:
                channel.send(subject, text)
                delivered = True
            except NotifyError as exc:
                log.warning("notification failed", extra={"channel": channel.name, "error": str(exc)})
        return delivered
